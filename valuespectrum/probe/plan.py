"""The probe's plan: which calls to make, their cache identity, and the answer rows.

Pure logic: no store, tracker or stage. A call's fingerprint hashes everything that shapes its
reply (model identity, messages with image hashes, generation params, prompt version), so an
identical call is answered from the cache and a changed one never is.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass

from valuespectrum.models.base import ChatModel, GenerationParams, ImagePart, Message
from valuespectrum.probe.parsing import parse_decision
from valuespectrum.probe.prompts import ProbePrompts, decision_messages

ANSWER_COLUMNS = (
    "probe_run", "value", "keyword", "rank", "sample", "screenshot_id", "fingerprint", "outcome",
    "parse_reason", "why_fingerprint", "rule_outcome", "judge_outcome", "judge_fingerprint",
    "decided_by", "answer_order", "keying",
)


@dataclass(frozen=True)
class Call:
    """One planned model call with its cache identity."""

    fingerprint: str
    kind: str
    image: ImagePart
    messages: tuple[Message, ...]
    request_json: str
    prompt_version: str
    params: GenerationParams


def probe_prompts(prompts_cfg) -> ProbePrompts:
    """The wording of ``cfg.prompts``. Its version is already final: ``load_config`` gives a piece
    reworded on top of a preset its own ``+custom-<hash>`` version."""
    p = prompts_cfg
    return ProbePrompts(
        version=p.version, system=p.system, decision=p.decision, why=p.why, describe=p.describe
    )


def plan_call(model: ChatModel, kind: str, image: ImagePart, messages, params, prompts) -> Call:
    request = {
        "model": model.fingerprint(),
        "kind": kind,
        "prompt_version": prompts.version,
        "messages": [m.fingerprint() for m in messages],
        "params": asdict(params),
    }
    blob = json.dumps(request, sort_keys=True, default=str)
    fingerprint = hashlib.sha256(blob.encode()).hexdigest()
    return Call(fingerprint, kind, image, tuple(messages), blob, prompts.version, params)


def decision_call(model: ChatModel, image: ImagePart, params: GenerationParams, prompts) -> Call:
    return plan_call(model, "decision", image, decision_messages(prompts, image), params, prompts)


def answer_rows(
    table, decisions, whys, replies, probe_run: str, samples: int, failures=None, *,
    mode: str = "rules", verdicts=None, row_orders=None, keyings=("forward",),
) -> list[tuple]:
    """One row per (retrieved image, sample, keying); a call without reply is ``error`` with
    its cause. ``decisions`` and ``whys`` are keyed by (screenshot id, sample, answer order,
    keying); ``row_orders`` gives each table row's answer order (default ``yes_first``).

    ``outcome`` is what the score uses: the ``mode``'s reading of the reply (``rules`` or the
    paper's ``prototype``), or the judge's verdict (``verdicts``: decision fingerprint ->
    ``judge.Verdict``) where the rules left the reply invalid; ``rule_outcome`` is always the
    strict rules' reading and ``decided_by`` says which one the score took.
    """
    failures, verdicts = failures or {}, verdicts or {}
    rows = []
    orders = row_orders if row_orders is not None else ["yes_first"] * len(table)
    for r, order in zip(table.itertuples(), orders, strict=True):
        for keying, s in ((k, s) for k in keyings for s in range(samples)):
            key = (int(r.screenshot_id), s, order, keying)
            call = decisions[key]
            verdict = verdicts.get(call.fingerprint)
            judged = (verdict.outcome, verdict.fingerprint) if verdict else (None, None)
            if call.fingerprint in replies:
                reply = replies[call.fingerprint]
                rule = parse_decision(reply)
                parsed = rule if mode == "rules" else parse_decision(reply, mode)
                outcome, reason, rule_outcome, decided_by = (
                    parsed.outcome, parsed.reason, rule.outcome, mode
                )
                if rule.outcome == "invalid" and judged[0] not in (None, "error"):
                    outcome, decided_by = judged[0], "judge"
                elif rule.outcome == "invalid" and judged[0] == "error":
                    decided_by = f"{mode} (judge failed)"  # the rules' reading stands, said so
            else:
                outcome, rule_outcome, decided_by = "error", None, "call"
                reason = f"call failed: {failures.get(call.fingerprint, 'no reply')}"[:300]
            why = whys.get(key)
            rows.append(
                (
                    probe_run,
                    r.value,
                    r.keyword,
                    int(r.rank),
                    s,
                    int(r.screenshot_id),
                    call.fingerprint,
                    outcome,
                    reason,
                    why.fingerprint if why else None,
                    rule_outcome,
                    *judged,
                    decided_by,
                    order,
                    keying,
                )
            )
    return rows
