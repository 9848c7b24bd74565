"""How the SIMULATED respondent describes a screenshot (the paper's third question).

It writes what it perceives: a value drawn from its perception of the image, told as a scene in
plain words (people, places, things) and the theme a viewer would name ("a scene of heritage"),
as real describers do. Neither quotes the value's definition, so a reader that compares the
description with the definitions (``perception.TextReader``) has to infer the value as a
text-only model would, and can miss (about one description in seven, read inside the paper's
text question).
Changing any phrase changes ``DESCRIPTION_VERSION``, part of the respondent's cache identity.
"""

from __future__ import annotations

import random

DESCRIPTION_VERSION = "describe-v2"

# value -> scenes (what a short video frame about it shows)
SCENES: dict[str, tuple[str, ...]] = {
    "self_direction": (
        "a young woman sketching her own designs alone in a small studio",
        "a solo traveller choosing a path on a mountain trail with a map",
        "a man building a wooden cabin by himself from scratch",
        "a teenager teaching herself to code late at night",
    ),
    "stimulation": (
        "a skydiver in free fall above the clouds",
        "a surfer riding a huge wave at sunrise",
        "people cliff jumping into a deep blue lake",
        "a crowd under bright fireworks at a loud night festival",
    ),
    "hedonism": (
        "friends laughing at a beach party with cocktails",
        "a plate of chocolate cake and desserts at a fancy dinner",
        "a person relaxing by a resort pool on vacation",
        "people dancing at a concert with colourful lights",
    ),
    "achievement": (
        "an athlete lifting a trophy on a podium",
        "a graduate in a gown holding a diploma",
        "a runner crossing the finish line first",
        "a founder presenting sales charts to a cheering team",
    ),
    "power": (
        "a man in a tailored suit beside a luxury sports car",
        "a penthouse office with a view over the city skyline",
        "a boss at the head of a long boardroom table",
        "stacks of cash and gold watches on a marble desk",
    ),
    "security": (
        "a family locking the door of their house with an alarm panel",
        "police officers patrolling a quiet neighbourhood",
        "a firefighter checking smoke detectors in a home",
        "a savings account app with an emergency fund",
    ),
    "conformity": (
        "students in uniforms standing quietly in straight lines",
        "a tidy queue of people waiting politely at a bus stop",
        "an office worker following a checklist of company rules",
        "a dinner guest waiting for the host before eating",
    ),
    "tradition": (
        "a family in traditional dress at a religious festival",
        "an elder teaching children an old folk dance",
        "candles and prayers at a temple ceremony",
        "grandmother cooking a heritage recipe for a holiday",
    ),
    "benevolence": (
        "a volunteer serving soup to neighbours",
        "a friend helping another carry boxes into a new flat",
        "a son caring for his elderly father at home",
        "kids sharing their lunch with a classmate",
    ),
    "universalism": (
        "volunteers planting trees and cleaning a beach",
        "people of many backgrounds marching for equal rights",
        "a wind farm over a green valley",
        "a refugee family welcomed at a community centre",
    ),
}
# value -> the theme words a describer would use
THEMES: dict[str, tuple[str, ...]] = {
    "self_direction": ("independence", "creative freedom", "choosing one's own path",
                       "self-reliance"),
    "stimulation": ("thrill", "adventure", "excitement", "a daring challenge"),
    "hedonism": ("pleasure", "indulgence", "having fun", "enjoying life"),
    "achievement": ("success", "ambition", "winning", "accomplishment"),
    "power": ("wealth", "status", "prestige", "control"),
    "security": ("safety", "protection", "stability", "a safe home"),
    "conformity": ("obedience", "following the rules", "politeness", "self-restraint"),
    "tradition": ("heritage", "old customs", "devotion", "ritual"),
    "benevolence": ("kindness", "helping others", "care for loved ones", "loyalty"),
    "universalism": ("equality", "protecting nature", "tolerance", "justice for all"),
}
_OPENINGS = ("The image shows {}.", "A short video frame of {}.", "This picture shows {}.",
             "It is a photo of {}.")
_CLOSINGS = ("", "", " The colours are bright.", " Text is overlaid at the bottom.",
             " The shot is taken from a phone.")
REFUSALS = ("I'm sorry, I can't describe this image.",
            "As an AI, I am unable to help with this request.")
NO_IMAGE = ("I can't see any image attached.", "It seems the image didn't load.")


def description_text(value: str, rng: random.Random) -> str:
    """One description of a screenshot expressing ``value``."""
    scene = f"{rng.choice(SCENES[value])}, a scene of {rng.choice(THEMES[value])}"
    return rng.choice(_OPENINGS).format(scene) + rng.choice(_CLOSINGS)
