"""The match-weight waterfall, as Splink draws it: the prior, then each comparison's weight, then the final
match weight and its probability. Drawn on the server as plain SVG geometry (no chart library, no script).

Match weights are log2 Bayes factors: they add up, so each bar starts where the one before ended.
"""

from __future__ import annotations

from dataclasses import dataclass

WIDTH = 640
LABEL_WIDTH = 250
ROW = 30
PAD = 8


@dataclass(frozen=True)
class Bar:
    label: str
    value: str  # the weight as the page shows it
    x: float
    width: float
    y: float
    kind: str  # prior | for | against | none | total
    label_x: float
    value_x: float


@dataclass(frozen=True)
class Waterfall:
    width: int
    height: int
    zero_x: float
    bars: list[Bar]
    anchor: str  # text-anchor for labels: the page's start side
    description: str  # the whole chart in words, for screen readers


def draw(prior: float, steps: list[tuple[str, float]], labels: tuple[str, str], fmt, rtl: bool,
         description: str) -> Waterfall:
    """`steps` = (label, weight) in the order shown; `labels` = the prior's and the total's names in the page's
    language; `fmt` formats a signed weight for it."""
    prior_label, final_label = labels
    running = [0.0, prior]
    for _, w in steps:
        running.append(running[-1] + w)
    lo, hi = min(running), max(running)
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    span = (hi - lo) or 1.0
    chart_x0 = PAD if rtl else LABEL_WIDTH
    chart_w = WIDTH - LABEL_WIDTH - PAD

    def x(v: float) -> float:
        return round(chart_x0 + (v - lo) / span * chart_w, 1)

    label_x = WIDTH - PAD if rtl else PAD
    bars = []
    rows = [(prior_label, prior, 0.0, prior)]
    start = prior
    for label, w in steps:
        rows.append((label, w, start, start + w))
        start += w
    rows.append(("total", start, 0.0, start))
    for i, (label, w, a, b) in enumerate(rows):
        kind = "prior" if i == 0 else "total" if i == len(rows) - 1 else (
            "none" if abs(w) < 0.05 else "for" if w > 0 else "against")
        left, right = sorted((x(a), x(b)))
        text = final_label if kind == "total" else label
        bars.append(Bar(text, fmt(w), left, max(right - left, 1.5), PAD + i * ROW, kind, label_x,
                        right + 4 if right + 40 < chart_x0 + chart_w else left - 4))
    return Waterfall(WIDTH, PAD * 2 + len(rows) * ROW, x(0.0), bars, "start", description)
