"""Lines printed under the profile table about how the replies were read and checked.

Replies that never saw the image, the judge's work and its agreement with the rules, the
prototype rule beside the strict one, and for a simulated respondent the known-truth check:
error against the true profile and coverage of the expected scores.
"""

from __future__ import annotations

from typing import Any

PERCEPTION = {
    "oracle": "oracle: each demo image's known theme, so only the probe is tested; "
              "model.perceive=caption perceives through captions",
    "caption": "caption: each image's caption against the value definitions; "
               "model.perceive=oracle gives it each demo image's known theme",
}


def reading_lines(frame, result, metrics: dict[str, float], *, parsing, perceive=None,
                  ci: float = 0.95) -> list[str]:
    """The lines, in print order; ``frame`` holds the answers, ``metrics`` the profile metrics."""
    lines = [_no_image_line(frame)]
    if result.mae is not None:
        lines.append(f"mean absolute error, recovered vs true profile: {result.mae:.1f} points")
        if perceive is not None:
            lines.append(f"perception: {PERCEPTION.get(perceive, perceive)}")
    if result.expected is not None:
        lines.append(
            f"expected score (the respondent's own p(yes) on these images) inside the "
            f"{100 * ci:.0f}% CI for {result.expected_in_ci} of {len(result.expected)} values; "
            f"mean absolute error {result.mae_expected:.1f} points"
        )
    if parsing.judge is not None:
        lines.append(_judge_line(parsing.judge, metrics))
    if parsing.mode == "prototype":
        lines.append(_prototype_line(frame, metrics))
    return lines


def _no_image_line(frame) -> str:
    n, total = int((frame["outcome"] == "no_image").sum()), len(frame)
    share = f"{100 * n / total:.0f}%" if total else "-"
    return (f"replies that never saw the image (no_image, a delivery failure, in no score): "
            f"{n} of {total} ({share})")


def _judge_line(judge: str, metrics: dict[str, float]) -> str:
    judged = int(metrics.get("usage/judge_judged", 0))
    decided = int(metrics.get("usage/judge_decided", 0))
    failed = int(metrics.get("usage/judge_failed", 0))
    line = (f"judge {judge}: {judged} replies labelled ({failed} calls failed); of those the "
            f"rules left invalid it decided {decided}, and the score uses its label there")
    sampled = int(metrics.get("usage/judge_sampled", 0))
    if sampled:
        line += (f"; agrees with the rules on {100 * metrics['summary/judge_agreement']:.0f}% "
                 f"of {sampled} rule-decided replies")
    return line


def _prototype_line(frame, metrics: dict[str, float]) -> str:
    same = metrics.get("summary/prototype_agreement", float("nan"))
    return (f'parsing.mode=prototype ("yes" anywhere in the reply, the paper\'s code): mean '
            f"score {_mean_score(frame, 'outcome'):.1f}, {_mean_score(frame, 'rule_outcome'):.1f}"
            f" under the strict rules, which read {100 * same:.0f}% of replies the same")


def _mean_score(frame, column: str) -> Any:
    counted = frame[frame[column].isin(["yes", "no", "refusal", "invalid"])]
    per_value = counted.groupby("value")[column].apply(lambda s: 100 * (s == "yes").mean())
    return float(per_value.mean()) if len(per_value) else float("nan")
