"""Schwartz's ten basic values: names, circumplex order and higher-order groups.

The circumplex order matters twice: plots draw the axes in it, and the circumplex-consistency
check expects adjacent values to score alike. Where Hedonism belongs among the higher-order
groups is disputed (paper.md section 1), so it is a parameter, not a constant.
"""

from __future__ import annotations

from typing import Literal

# Canonical identifiers, in circumplex order (adjacent = compatible).
VALUES: tuple[str, ...] = (
    "self_direction",
    "stimulation",
    "hedonism",
    "achievement",
    "power",
    "security",
    "conformity",
    "tradition",
    "benevolence",
    "universalism",
)

LABELS: dict[str, str] = {
    "self_direction": "Self-Direction",
    "stimulation": "Stimulation",
    "hedonism": "Hedonism",
    "achievement": "Achievement",
    "power": "Power",
    "security": "Security",
    "conformity": "Conformity",
    "tradition": "Tradition",
    "benevolence": "Benevolence",
    "universalism": "Universalism",
}

# The paper's radar chart axes, clockwise from the top.
PAPER_AXIS_ORDER: tuple[str, ...] = (
    "self_direction",
    "universalism",
    "benevolence",
    "stimulation",
    "power",
    "achievement",
    "hedonism",
    "conformity",
    "tradition",
    "security",
)

# Schwartz's (1992) circle, clockwise from the top: neighbours are compatible values, values
# across the circle conflict, so a circumplex-consistent profile looks smooth in this order.
CIRCUMPLEX_AXIS_ORDER: tuple[str, ...] = VALUES

# Radar axis orders by their ``plots.axis_order`` name.
AXIS_ORDERS: dict[str, tuple[str, ...]] = {
    "paper": PAPER_AXIS_ORDER,
    "circumplex": CIRCUMPLEX_AXIS_ORDER,
}

# Angles (degrees) of the values around Schwartz's circle, for the circumplex fit. "schwartz":
# ten equal steps in circumplex order; "shared_wedge": Conformity and Tradition share one wedge
# (Tradition sits outside Conformity in Schwartz's 1992 figure), so nine steps of 40 degrees.
CIRCUMPLEX_ANGLES: dict[str, float] = {v: 36.0 * i for i, v in enumerate(VALUES)}
CIRCUMPLEX_LAYOUTS: dict[str, dict[str, float]] = {
    "schwartz": CIRCUMPLEX_ANGLES,
    "shared_wedge": {
        v: 40.0 * (i if i <= VALUES.index("conformity") else i - 1) for i, v in enumerate(VALUES)
    },
}

HedonismGroup = Literal["openness_to_change", "self_enhancement"]


def higher_order_groups(
    hedonism_in: HedonismGroup = "openness_to_change",
) -> dict[str, tuple[str, ...]]:
    """Return the four higher-order groups, placing Hedonism where the caller says.

    The default follows the PVQ-40 scoring key (Hedonism with Openness to change).
    """
    groups: dict[str, list[str]] = {
        "openness_to_change": ["self_direction", "stimulation"],
        "self_enhancement": ["achievement", "power"],
        "conservation": ["security", "conformity", "tradition"],
        "self_transcendence": ["benevolence", "universalism"],
    }
    if hedonism_in not in ("openness_to_change", "self_enhancement"):
        raise ValueError(
            f"hedonism_in={hedonism_in!r} is not allowed; use 'openness_to_change' "
            "or 'self_enhancement'"
        )
    groups[hedonism_in].append("hedonism")
    return {name: tuple(members) for name, members in groups.items()}


def circumplex_distance(a: str, b: str) -> int:
    """Steps between two values around the circle (0..5)."""
    i, j = VALUES.index(a), VALUES.index(b)
    d = abs(i - j)
    return min(d, len(VALUES) - d)


def check_value(name: str) -> str:
    """Return ``name`` if it is one of the ten values, else raise naming the allowed ones."""
    if name not in VALUES:
        raise ValueError(f"unknown value {name!r}; use one of: {', '.join(VALUES)}")
    return name


# Schwartz's (1992) one-line definitions, paraphrased. The simulated respondent perceives images
# against these rather than against the retrieval keywords, so its check is not circular.
DEFINITIONS: dict[str, str] = {
    "self_direction": "independent thought and action: choosing, creating, exploring, freedom",
    "stimulation": "excitement, novelty, adventure and challenge in life, a thrilling life",
    "hedonism": "pleasure, enjoying life, sensuous gratification, fun and indulgence",
    "achievement": "personal success through competence: ambition, winning, accomplishment",
    "power": "social status, prestige, wealth, control and dominance over people and resources",
    "security": "safety, harmony and stability of society, family security, protection",
    "conformity": "restraint, obedience, politeness, following rules and social norms",
    "tradition": "respect for customs of culture or religion, heritage, devotion, rituals",
    "benevolence": "caring for the welfare of close others: helpfulness, kindness, loyalty",
    "universalism": "tolerance, social justice, equality, peace and protection of nature",
}
