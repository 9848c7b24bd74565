"""The agent that scrolls a feed as a persona: one loop (look, decide, stay or swipe), two
drivers (``direct``: the local feed in-process; ``browser``: Chromium on the real page), the call
gate that sends every step's question through the response cache and the call runner, and the
session runner that resumes and replays stored sessions."""
