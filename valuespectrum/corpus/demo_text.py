"""Captions, hashtags, handles and engagement counts for the demo corpus.

Captions are per-value templates filled from per-value word lists, so a value's images do not
all say the same thing and keyword retrieval has real text to miss as well as to hit. About one
post in ten gets a generic, off-theme caption, as real feeds do. ASCII only: the built-in font
that draws them has no emoji.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

OFF_THEME_RATE = 0.1

# value -> (templates, fillers, hashtags)
_TEXT: dict[str, tuple[tuple[str, ...], dict[str, tuple[str, ...]], tuple[str, ...]]] = {
    "self_direction": (
        (
            "Quit my 9-5 and drove to {place} alone. No plan, no regrets",
            "Taught myself {skill} in {days} days, no classes, just curiosity",
            "Day {days} of building my own {thing} from scratch",
            "Nobody told me which way to go, so I picked my own road to {place}",
            "Solo trip to {place}: I make the rules now",
        ),
        {
            "place": ("the Alps", "Patagonia", "the north coast", "Iceland", "the Highlands"),
            "skill": ("coding", "oil painting", "the guitar", "woodworking", "Japanese"),
            "days": ("12", "30", "60", "90", "100"),
            "thing": ("cabin", "app", "camper van", "startup", "synth"),
        },
        ("solotravel", "freedom", "roadtrip", "diy", "selftaught", "vanlife", "ownpath"),
    ),
    "stimulation": (
        (
            "First time {activity} and my heart is still racing",
            "{secs} seconds of pure adrenaline. Would you try this?",
            "Said yes to {activity} at {time}. Zero regrets",
            "POV: the biggest wave of the season and you paddle in anyway",
            "Fireworks, loud music, no sleep. Tonight was electric",
        ),
        {
            "activity": ("skydiving", "cliff jumping", "bungee jumping", "storm chasing"),
            "secs": ("10", "15", "30", "45"),
            "time": ("5am", "midnight", "sunrise"),
        },
        ("adrenaline", "extremesports", "thrill", "adventure", "surfing", "sendit", "fireworks"),
    ),
    "hedonism": (
        (
            "Best {event} of my life, still buzzing",
            "Doing absolutely nothing in {place} and loving it",
            "Treat yourself: {treat} by the pool, {day} mood",
            "Vacation mode on. Emails ignored. {place} forever",
            "Comedy night with the gang, I cried laughing",
        ),
        {
            "event": ("concert night", "beach party", "festival weekend", "birthday dinner"),
            "place": ("Bali", "Ibiza", "Cancun", "the Maldives", "Santorini"),
            "treat": ("a mango cocktail", "triple chocolate cake", "street tacos"),
            "day": ("Friday", "Saturday", "Sunday"),
        },
        ("vacation", "goodvibes", "treatyourself", "beachlife", "partytime", "foodie", "comedy"),
    ),
    "achievement": (
        (
            "{years} years of training for this moment. {result}!",
            "From last place to the podium: {result} at {event}",
            "Finally got my {credential}. Hard work pays off",
            "Promotion unlocked: {title} at {age}",
            "New personal best today: {best}",
        ),
        {
            "years": ("3", "5", "7", "10"),
            "result": ("Gold medal", "First place", "Champion", "Silver"),
            "event": ("nationals", "the city marathon", "the state finals", "the chess open"),
            "credential": ("degree", "black belt", "pilot licence", "PhD"),
            "title": ("team lead", "head chef", "senior engineer"),
            "age": ("24", "27", "31"),
            "best": ("a sub-3 marathon", "a 200 kg deadlift", "top 1% ranking"),
        },
        ("goals", "success", "hardworkpaysoff", "winning", "champion", "motivation", "podium"),
    ),
    "power": (
        (
            "Closed the {deal} deal. The corner office is mine",
            "Top floor, {city} skyline, and everyone answers to me",
            "Rich people habits that made me {money} this year",
            "They doubted me. Now I own {count} {asset}",
            "Luxury is a mindset: {asset} edition",
        ),
        {
            "deal": ("million-dollar", "merger", "biggest"),
            "city": ("Dubai", "Manhattan", "Hong Kong", "London"),
            "money": ("a million", "seven figures", "$500K"),
            "count": ("three", "five", "twelve"),
            "asset": ("companies", "penthouses", "supercars", "buildings"),
        },
        ("boss", "luxury", "ceo", "money", "wealth", "billionaire", "leadership", "power"),
    ),
    "security": (
        (
            "Finally installed a {device}, now I sleep better",
            "Our emergency kit checklist: {item}, water, first aid",
            "Saved {months} months of expenses. Peace of mind is priceless",
            "Neighborhood watch meeting tonight. Safety first",
            "Locks, lights and a {device}: how we keep the kids safe",
        ),
        {
            "device": ("smart lock", "home alarm", "doorbell camera", "fire safe"),
            "item": ("flashlight", "radio", "batteries", "spare keys"),
            "months": ("6", "9", "12"),
        },
        ("homesafety", "security", "savings", "emergencyfund", "safetyfirst", "insurance"),
    ),
    "conformity": (
        (
            "Perfect rows, perfect uniforms: {group} drill day",
            "When everyone follows the rules, {place} just works",
            "Etiquette 101: {rule}",
            "Lining up quietly at {place}. Respect the queue",
            "Dress code met. {group} photo day",
        ),
        {
            "group": ("marching band", "school", "company", "choir"),
            "place": ("the station", "the airport", "the museum", "school"),
            "rule": ("never skip the queue", "phones on silent", "wait your turn to speak"),
        },
        ("discipline", "rules", "etiquette", "uniform", "manners", "respect", "orderly"),
    ),
    "tradition": (
        (
            "Lantern festival with grandma, same as every year",
            "Our family has made {dish} this way for {gens} generations",
            "Visiting the old temple for {holiday}, just like my ancestors",
            "{holiday} rituals we never skip",
            "Learning the {craft} my grandfather taught me",
        ),
        {
            "dish": ("dumplings", "tamales", "mooncakes", "bread"),
            "gens": ("three", "four", "five"),
            "holiday": ("New Year", "Diwali", "the harvest festival", "Mid-Autumn"),
            "craft": ("calligraphy", "folk dance", "pottery", "weaving"),
        },
        ("tradition", "heritage", "culture", "festival", "ancestors", "lanterns", "temple"),
    ),
    "benevolence": (
        (
            "Surprised my {person} with {gift}. The smile says it all",
            "Volunteered at the {place} today, {count} meals served",
            "Small kindness challenge: {act}",
            "My best friend drove {km} km just to help me move. Keep people like this",
            "Helping my {person} with {chore} every Sunday",
        ),
        {
            "person": ("grandma", "neighbor", "mom", "little brother"),
            "gift": ("a homemade card", "breakfast in bed", "flowers"),
            "place": ("food bank", "shelter", "community kitchen"),
            "count": ("80", "120", "200"),
            "act": ("pay for a stranger's coffee", "call someone you miss"),
            "km": ("200", "350", "500"),
            "chore": ("groceries", "the garden", "homework"),
        },
        ("kindness", "family", "volunteer", "helpingothers", "friendship", "givingback"),
    ),
    "universalism": (
        (
            "Planted {count} trees with strangers from {num} countries",
            "Equal rights for everyone, everywhere. {cause}",
            "Cleaned up {place} today. The planet belongs to all of us",
            "One world, many cultures: {event}",
            "Climate facts everyone should know, part {num}",
        ),
        {
            "count": ("100", "250", "1000"),
            "num": ("2", "3", "5", "12"),
            "cause": ("Stand together", "No one left behind", "Equality is not optional"),
            "place": ("the beach", "the river", "our park"),
            "event": ("international food fair", "refugee welcome day", "global youth summit"),
        },
        ("climateaction", "equality", "sustainability", "humanrights", "nature", "peace"),
    ),
}

_OFF_THEME = (
    "Wait for the end...",
    "Part {n} of this series",
    "Can't stop watching this",
    "Rate this from 1 to 10",
    "Tag someone who needs to see this",
    "Sound on for this one",
    "A day in my life, part {n}",
)
_NOISE_TAGS = ("fyp", "foryou", "viral", "trending", "explore", "reels", "shorts")
_FIRST = ("lena", "mika", "jay", "sofia", "omar", "kai", "nora", "leo", "ava", "ravi", "yuki")
_SECOND = ("travels", "daily", "vlogs", "life", "studio", "eats", "moves", "world", "notes")


@dataclass(frozen=True)
class Post:
    """The text and counts that sit on top of one demo scene."""

    caption: str
    hashtags: tuple[str, ...]
    author: str
    likes: int
    comments: int
    shares: int
    off_theme: bool


def compose_post(theme: str, rng: random.Random) -> Post:
    """Draw a caption, hashtags, handle and counts for ``theme`` from ``rng``."""
    templates, fillers, tags = _TEXT[theme]
    off_theme = rng.random() < OFF_THEME_RATE
    if off_theme:
        caption = rng.choice(_OFF_THEME).format(n=rng.randint(2, 9))
        chosen = rng.sample(tags, 1)
    else:
        words = {slot: rng.choice(options) for slot, options in fillers.items()}
        caption = rng.choice(templates).format(**words)
        chosen = rng.sample(tags, rng.randint(2, 3))
    chosen += rng.sample(_NOISE_TAGS, rng.randint(0, 2))
    author = rng.choice(_FIRST) + rng.choice(("", ".", "_")) + rng.choice(_SECOND)
    if rng.random() < 0.4:
        author += str(rng.randint(1, 99))
    likes = int(10 ** rng.uniform(2, 6.3))
    return Post(
        caption=caption,
        hashtags=tuple(dict.fromkeys(chosen)),
        author=author,
        likes=likes,
        comments=likes // rng.randint(20, 80),
        shares=likes // rng.randint(10, 60),
        off_theme=off_theme,
    )


def compact_count(count: int) -> str:
    """Counts as apps print them: 1234 -> 1.2K, 2500000 -> 2.5M."""
    for limit, suffix in ((1_000_000, "M"), (1_000, "K")):
        if count >= limit:
            return f"{count / limit:.1f}".rstrip("0").rstrip(".") + suffix
    return str(count)
