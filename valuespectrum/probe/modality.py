"""The modality ablation's pure part: the text-only question, and how descriptions are read.

With ``modality=description`` the describer answers the paper's third question about each
screenshot; the answerer is then asked the preference question about that description, as text
only (``prompts.text_decision``, where ``{description}`` stands for it). What it answers is read
and scored exactly as an answer about the image. A screenshot without a usable description is
never asked and never scored: a failed describe call is ``error`` (never a "no"), and a
describer that refused, said it saw no image, or returned nothing makes the row ``no_image`` (the
image's content never reached the answerer), with ``decided_by = 'describer'`` and the reason in
``parse_reason``; both are counted in the score table's error / no-image columns.

Pure logic: no store, tracker or stage.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from valuespectrum.models.base import Message
from valuespectrum.probe.parsing import parse_decision
from valuespectrum.probe.prompts import wording_fingerprint

PLACEHOLDER = "{description}"
# Longer replies are descriptions, whatever caveat they carry.
SHORT_REPLY = 160
# A describer declining the task in its own words ("I can't describe this image").
_DECLINED = re.compile(
    r"\bi(?:'m| am)? ?(?:sorry\W+)?(?:can't|cannot|can not|won't|will not|am unable to"
    r"|'m unable to|am not able to) (?:describe|identify|help|assist)\b", re.I)


@dataclass(frozen=True)
class TextPrompts:
    """The wording of the text-only question: the probe's system turn and "why", and
    ``text_decision``. Its fingerprint enters the probe run id of a description run."""

    version: str
    system: str
    text_decision: str
    why: str

    def fingerprint(self) -> str:
        return wording_fingerprint(self)

    def question(self, description: str) -> str:
        return self.text_decision.replace(PLACEHOLDER, description.strip())


def text_prompts(prompts_cfg) -> TextPrompts:
    p = prompts_cfg
    return TextPrompts(version=p.version, system=p.system, text_decision=p.text_decision,
                       why=p.why)


def text_decision_messages(prompts: TextPrompts, description: str) -> tuple[Message, ...]:
    """Question 1 about a description: system turn, then one text-only user turn."""
    system = (Message.text("system", prompts.system),) if prompts.system else ()
    return (*system, Message.text("user", prompts.question(description)))


def text_why_messages(prompts: TextPrompts, description: str, reply: str
                      ) -> tuple[Message, ...]:
    """Question 2 in the same (text-only) conversation, after the answerer's decision."""
    return (*text_decision_messages(prompts, description), Message.text("assistant", reply),
            Message.text("user", prompts.why))


@dataclass(frozen=True)
class Description:
    """What the describer gave for one screenshot: ``text`` when usable, else why not."""

    status: str  # ok | error | refused | no_image | empty
    text: str | None
    reason: str

    @property
    def usable(self) -> bool:
        return self.status == "ok"


def read_description(reply: str | None, failure: str | None = None) -> Description:
    """Read the describer's reply: usable, or error (the call failed), refused, no_image (it
    says the image did not arrive) or empty. Only a short reply (``SHORT_REPLY`` characters at
    most) is read for a refusal or a missing image, by its first sentence, with the probe's own
    parser and the
    describer's "I can't describe this" wording: a real description often declines a detail
    ("I'm not able to identify the people in it, but the signs read ...") and is still one."""
    if reply is None:
        return Description("error", None, f"describe call failed: {failure or 'no reply'}"[:300])
    text = reply.strip()
    if not re.search(r"\w", text):
        return Description("empty", None, "describer returned an empty description")
    first = re.split(r"(?<=[.!?])\s+", text, maxsplit=1)[0]  # what the reply opens with
    if len(text) <= SHORT_REPLY:
        parsed = parse_decision(first).outcome
        if parsed == "no_image":
            return Description("no_image", None, f"describer saw no image: {text[:120]}")
        if parsed == "refusal" or _DECLINED.search(first):
            return Description("refused", None, f"describer refused: {text[:120]}")
    return Description("ok", text, "described")


def missing_rows(table, descriptions: Mapping[int, Description], fingerprints: Mapping[int, str],
                 probe_run: str, samples: int) -> list[tuple]:
    """Answer rows (``plan.ANSWER_COLUMNS``) of the screenshots without a usable description:
    ``error`` where the describe call failed, else ``no_image``; decided by the describer, the
    describe call's fingerprint as the row's."""
    rows = []
    for r in table.itertuples():
        sid = int(r.screenshot_id)
        d = descriptions[sid]
        if d.usable:
            continue
        outcome = "error" if d.status == "error" else "no_image"
        for s in range(samples):
            rows.append((probe_run, r.value, r.keyword, int(r.rank), s, sid, fingerprints[sid],
                         outcome, d.reason, None, None, None, None, "describer", "yes_first",
                         "forward"))
    return rows


def description_counts(descriptions: Mapping[int, Description]) -> dict[str, float]:
    """Metrics: how many screenshots were described, and why the others were not."""
    counts = {status: 0 for status in ("ok", "error", "refused", "no_image", "empty")}
    for d in descriptions.values():
        counts[d.status] += 1
    return {"usage/described" if k == "ok" else f"usage/undescribed_{k}": float(v)
            for k, v in counts.items()}
