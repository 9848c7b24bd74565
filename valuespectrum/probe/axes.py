"""The probe's robustness axes as a plan: which question variants each image is asked.

``probe.answer_order`` names the options as worded (``yes_first``), swapped (``no_first``: "Yes
or No" -> "No or Yes") or, ``counterbalanced``, half of each keyword's images each way:
alternately by rank, the first rank's order alternating across a value's keywords, so every
value gets both orders in equal shares (within one image). ``probe.keying`` asks the forward
question, the reverse-keyed one (``prompts.reverse``: a "yes" means scroll past) or both of each
image; the score is the forward answers' (``reverse`` alone: the share of reverse "no").
``probe.system_prompt=false`` sends no system turn and ``probe.image=blank`` one uniform
mid-grey picture of each image's size. Pure logic: no store, tracker or stage.

The defaults ask what the probe always asked, with the same request fingerprints: every
variant is a ``ProbePrompts`` whose fingerprint the calls already carry, and ``run_identity``
adds nothing to the probe run's id unless an axis is moved.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import pandas as pd

from valuespectrum.probe.options import ORDERS, with_order
from valuespectrum.probe.prompts import ProbePrompts

KEYED: dict[str, tuple[str, ...]] = {
    "forward": ("forward",), "reverse": ("reverse",), "both": ("forward", "reverse"),
}
DEFAULTS = {"answer_order": "yes_first", "keying": "forward", "system_prompt": True,
            "image": "screenshot"}  # fmt: skip


@dataclass(frozen=True)
class Axes:
    """The axis settings of one probe job (``cfg.probe``'s), and the reverse-keyed wording."""

    answer_order: str = "yes_first"
    keying: str = "forward"
    system_prompt: bool = True
    image: str = "screenshot"
    reverse: str = ""

    @classmethod
    def of(cls, probe_cfg, prompts_cfg) -> Axes:
        p = probe_cfg
        return cls(p.answer_order, p.keying, p.system_prompt, p.image, prompts_cfg.reverse)

    @property
    def orders(self) -> tuple[str, ...]:
        return ORDERS if self.answer_order == "counterbalanced" else (self.answer_order,)

    def framed(self, prompts: ProbePrompts) -> ProbePrompts:
        """``prompts`` with the system turn this job sends (none with ``system_prompt=false``)."""
        return prompts if self.system_prompt else replace(prompts, system="")

    def variants(self, prompts: ProbePrompts) -> dict[tuple[str, str], ProbePrompts]:
        """(answer order, keying) -> the wording asked. ``yes_first`` keeps the wording as
        written; another order swaps its option pair (the config refused a wording without)."""
        out = {}
        for order in self.orders:
            for keying in KEYED[self.keying]:
                text = prompts.decision if keying == "forward" else self.reverse
                if self.answer_order != "yes_first":
                    text = with_order(text, order)
                out[(order, keying)] = replace(self.framed(prompts), decision=text)
        return out

    def row_orders(self, table: pd.DataFrame) -> list[str]:
        """The answer order of each retrieval row (value, keyword, rank), in table order."""
        if self.answer_order != "counterbalanced":
            return [self.answer_order] * len(table)
        keyword_index = table.groupby("value", sort=False)["keyword"].transform(
            lambda k: pd.factorize(k)[0]
        )
        parity = (table["rank"].astype(int) - 1 + keyword_index.astype(int)) % 2
        return [ORDERS[int(p)] for p in parity]

    def run_identity(self) -> dict:
        """What the axes add to the probe run's id: nothing at the defaults."""
        moved = {k: getattr(self, k) for k, v in DEFAULTS.items() if getattr(self, k) != v}
        if self.keying != "forward":
            moved["reverse"] = self.reverse
        return {"axes": moved} if moved else {}


def scored_answers(frame: pd.DataFrame, keying: str) -> pd.DataFrame:
    """The answers the score counts: the forward-keyed ones, or with ``keying=reverse`` the
    reverse-keyed ones read as their opposite (a reverse "no" is a like), log-probabilities
    swapped alike. Rows without a keying (older answers) are forward."""
    keyed = frame["keying"].fillna("forward") if "keying" in frame else None
    if keying != "reverse":
        return frame if keyed is None else frame[keyed == "forward"].reset_index(drop=True)
    out = frame[keyed == "reverse"].reset_index(drop=True)
    out["outcome"] = out["outcome"].map(lambda o: {"yes": "no", "no": "yes"}.get(o, o))
    if "yes_logprob" in out and "no_logprob" in out:
        out[["yes_logprob", "no_logprob"]] = out[["no_logprob", "yes_logprob"]].to_numpy()
    return out
