"""Role-play induction logic (persona prompts, Simple/ISQ parsing, session metrics): pure code.

Not built yet; selecting the ``induce`` stage stops the run before any work.
"""
