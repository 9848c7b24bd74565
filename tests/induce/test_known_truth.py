"""The science pieces fit: persona respondent -> strategy parse -> metrics recover a known effect.

A tiny feed written here (not the project's recommender) keeps a score per value (+1 for a
stay, -0.5 for a swipe) and serves an item of the best-scored value with a probability that
grows along the session (position / videos: it learns gradually; a feed that locks on within
the first window leaves little for I, which compares the first window with the last), otherwise
a random item; the control always serves random items. The respondent likes only its persona's
favoured values, so the adaptive sessions must show a positive net induction effect whose CI
excludes 0, and the control an I_avg near 0 (whether its CI holds 0 is a matter of chance in
one study, about 95%; test_metrics checks that coverage over thirty null studies).
"""

from __future__ import annotations

import asyncio
import random

import pandas as pd
import pytest

from tests.conftest import compose_raw
from valuespectrum.config import load_config
from valuespectrum.induce.metrics import amplification_curve, induction_table
from valuespectrum.induce.personas import load_personas
from valuespectrum.induce.strategies import make_strategy
from valuespectrum.models.base import GenerationParams, ImagePart
from valuespectrum.simulation.persona_respondent import PersonaRespondent
from valuespectrum.values import VALUES

VIDEOS, WINDOW = 100, 50  # induce.videos and induce.window's defaults


class Catalog:
    """A hundred images per value (a session never runs out of its value); the perceiver sees
    each image's value (91%)."""

    def __init__(self) -> None:
        self.items = [(v, ImagePart(f"{v}-{i}".encode())) for v in VALUES for i in range(100)]
        self.theme = {image.sha256: v for v, image in self.items}

    def __call__(self, image: ImagePart) -> dict[str, float]:
        return {v: 0.91 if v == self.theme[image.sha256] else 0.01 for v in VALUES}


async def _session(model, strategy, persona, catalog, condition, seed) -> list[dict]:
    rng = random.Random(seed)
    unseen = list(range(len(catalog.items)))
    rows, score = [], dict.fromkeys(VALUES, 0.0)
    for position in range(VIDEOS):
        pool = unseen
        if condition == "adaptive" and rng.random() < position / VIDEOS:
            top = max(score.values())
            best = rng.choice([v for v in VALUES if score[v] == top])
            pool = [i for i in unseen if catalog.items[i][0] == best]
        index = rng.choice(pool)
        unseen.remove(index)
        value, image = catalog.items[index]
        reply = await model.achat(strategy.messages(persona, image), GenerationParams(seed=0))
        decision = strategy.parse(reply.text)
        score[value] += 1.0 if decision.stay else -0.5
        rows.append({"session_id": f"{condition}-{persona.persona_id}",
                     "persona_id": persona.persona_id, "condition": condition,
                     "position": position, "item_id": index, "stay": bool(decision.stay),
                     "invalid": decision.stay is None, "values": [value],
                     "favours": list(persona.favours)})  # fmt: skip
    return rows


@pytest.mark.parametrize("strategy_name", ["simple", "isq"])
def test_the_respondent_on_an_adaptive_feed_gives_a_positive_net_effect(strategy_name) -> None:
    cfg = load_config(compose_raw([f"strategy={strategy_name}"]))
    personas = load_personas(cfg.persona)
    catalog = Catalog()
    model = PersonaRespondent(name="persona-respondent", personas=personas, perceiver=catalog)
    strategy = make_strategy(cfg.strategy, cfg.threshold)

    async def study() -> list[list[dict]]:
        return await asyncio.gather(*(
            _session(model, strategy, p, catalog, condition, seed=k)
            for k, p in enumerate(personas) for condition in ("adaptive", "control")
        ))  # fmt: skip

    frame = pd.DataFrame([row for rows in asyncio.run(study()) for row in rows])
    table = induction_table(frame, window=WINDOW, n_boot=1000, seed=0)
    control = table["conditions"]["control"]
    assert table["net"]["paired"] and table["net"]["ci_low"] > 0
    assert abs(control["I_avg"]) < 8 < table["conditions"]["adaptive"]["I_avg"] - 15
    curve = amplification_curve(frame, n_boot=200, seed=0)
    end = curve[curve["position"] == VIDEOS - 1].set_index("condition")["share"]
    assert end["adaptive"] > end["control"] + 20
