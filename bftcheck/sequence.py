"""A trace as an SVG message-sequence chart: one lane per actor (faulty lanes
marked), one row per step, each message an arrow from its sender to the lanes
it reached, the network's splits as shaded bands, and the marks a step leaves
on a lane (locks, decisions, notes). What is drawn comes from the model's
vocabulary (checker/interface.py: lanes, initial_scene, scene); this module
knows no protocol, only geometry."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from itertools import groupby

from bftcheck.checker.interface import NETWORK, Lane, Mark, Model, Scene, vocabulary
from bftcheck.trace import Trace

GUTTER = 300  # the step number and action column
LANE_GAP = 150
RIGHT_MARGIN = 190  # the split bands' names
HEADER = 52
ARROW_GAP = 13  # between the arrows of one row
MARK_GAP = 15  # between the marks stacked on one lane
ACTION_CHARS = 44  # longer actions are cut here (the whole text is the tooltip and the story)
MARK_KINDS = ("note", "lock", "decide")
BAND_COLOURS = ("#e3efff", "#fff0d9", "#e6f6e6", "#f3e6f6")


@dataclass
class Row:
    """A step placed on the chart."""

    step: int
    action: str
    actor: str | None
    scene: Scene
    top: float
    height: float


def scenes(model: Model, trace: Trace) -> tuple[list[Lane], list[Scene]]:
    """The lanes, and each state's scene (the first is the initial state's)."""
    words = vocabulary(model)
    views = [model.decode(st.state) for st in trace.steps]
    drawn = [words.initial_scene(views[0])]
    drawn += [words.scene(views[i - 1], views[i]) for i in range(1, len(views))]
    return words.lanes(trace.config, views[0]), drawn


def layout(trace: Trace, drawn: list[Scene]) -> list[Row]:
    """Each step's row, tall enough for its arrows above and its marks below."""
    rows, top = [], float(HEADER)
    for i, (step, scene) in enumerate(zip(trace.steps, drawn, strict=True)):
        per_lane: dict[str, int] = {}
        for mark in scene.marks:
            per_lane[mark.lane] = per_lane.get(mark.lane, 0) + 1
        height = (22 + ARROW_GAP * len(scene.arrows)
                  + MARK_GAP * max(per_lane.values(), default=0))
        rows.append(Row(i, step.action, step.actor, scene, top, max(height, 30.0)))
        top += rows[-1].height
    return rows


def render_svg(model: Model, trace: Trace) -> str:
    """The chart as one `<svg>` element (inline in the HTML page)."""
    lanes, drawn = scenes(model, trace)
    rows = layout(trace, drawn)
    xs = {lane.name: GUTTER + 60 + k * LANE_GAP for k, lane in enumerate(lanes)}
    width = GUTTER + 60 + LANE_GAP * max(len(lanes) - 1, 0) + RIGHT_MARGIN
    height = rows[-1].top + rows[-1].height + 16
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{width}" '
             f'height="{height:.0f}" viewBox="0 0 {width} {height:.0f}" role="img" '
             f'aria-label="message sequence chart, {len(lanes)} lanes, {len(rows)} steps">',
             _defs()]
    parts += _bands(rows, lanes, xs)
    if rows:
        parts.append(f'<rect class="last" x="0" y="{rows[-1].top:.0f}" width="{width}" '
                     f'height="{rows[-1].height:.0f}"/>' if trace.kind == "violation" else "")
    parts += [_lane(lane, xs[lane.name], height) for lane in lanes]
    parts += [_row(row, xs, width) for row in rows]
    parts.append("</svg>")
    return "\n".join(p for p in parts if p)


def _defs() -> str:
    heads = "".join(
        f'<marker id="head-{kind}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        f'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
        f'class="head-{kind}"/></marker>' for kind in ("ok", "faulty"))
    return f"<defs>{heads}</defs>"


def _lane(lane: Lane, x: float, height: float) -> str:
    kind = "faulty" if lane.faulty else "ok"
    label = f"{lane.name} (Byzantine)" if lane.faulty else lane.name
    return (f'<g class="lane lane-{kind}" data-lane="{escape(lane.name)}">'
            f'<text x="{x}" y="24" text-anchor="middle" class="lane-name">{escape(label)}</text>'
            f'<line x1="{x}" y1="34" x2="{x}" y2="{height - 8:.0f}"/></g>')


def _bands(rows: list[Row], lanes: list[Lane], xs: dict[str, float]) -> list[str]:
    """A shaded band per run of rows with one split, one tint per component."""
    def key(row: Row) -> str:
        return repr(row.scene.split)

    return [_band(list(run), lanes, xs) for split, run in groupby(rows, key)
            if split != "None"]


def _band(rows: list[Row], lanes: list[Lane], xs: dict[str, float]) -> str:
    split = rows[0].scene.split or []
    top, bottom = rows[0].top, rows[-1].top + rows[-1].height
    named = " | ".join("{" + ",".join(c) + "}" for c in split)
    parts = [f'<g class="split" data-split="{escape(named)}">']
    for k, component in enumerate(split):
        colour = BAND_COLOURS[k % len(BAND_COLOURS)]
        for name in component:
            if name in xs:
                parts.append(f'<rect x="{xs[name] - LANE_GAP / 2 + 4:.0f}" y="{top:.0f}" '
                             f'width="{LANE_GAP - 8}" height="{bottom - top:.0f}" '
                             f'fill="{colour}"/>')
    right = max(xs.values()) + LANE_GAP / 2 + 4
    for k, line in enumerate(["split:"] + ["{" + ",".join(c) + "}" for c in split]):
        parts.append(f'<text x="{right:.0f}" y="{top + 12 + 13 * k:.0f}" '
                     f'class="split-name">{escape(line)}</text>')
    parts.append("</g>")
    return "".join(parts)


def _row(row: Row, xs: dict[str, float], width: float) -> str:
    action = row.action if len(row.action) <= ACTION_CHARS else row.action[:ACTION_CHARS - 1] + "…"
    parts = [f'<g class="step" data-step="{row.step}" id="chart-step-{row.step}">',
             f'<title>{row.step}. {escape(row.action)}</title>',
             f'<line class="rule" x1="0" y1="{row.top:.0f}" x2="{width}" y2="{row.top:.0f}"/>',
             f'<text x="6" y="{row.top + 15:.0f}" class="n">{row.step}</text>',
             f'<text x="34" y="{row.top + 15:.0f}" class="action">{escape(action)}</text>']
    if row.actor in xs:
        parts.append(f'<circle class="actor" cx="{xs[row.actor]}" cy="{row.top + 10:.0f}" r="4"/>')
    elif row.actor == NETWORK and xs:  # Split / Heal, across the lanes
        middle = (min(xs.values()) + max(xs.values())) / 2
        parts.append(f'<text x="{middle:.0f}" y="{row.top + 15:.0f}" text-anchor="middle" '
                     f'class="network">{escape(row.action.split(":")[0])}</text>')
    y = row.top + 20
    for arrow in row.scene.arrows:
        parts.append(_arrow(arrow.sender, arrow.label, arrow.to, arrow.faulty, xs, y))
        y += ARROW_GAP
    parts += _marks(row.scene.marks, xs, y + 4)
    parts.append("</g>")
    return "".join(parts)


def _arrow(sender: str, label: str, to: tuple[str, ...] | None, faulty: bool,
           xs: dict[str, float], y: float) -> str:
    """A line from the sender to each lane reached (an arrowhead on each), its
    label above, beside the sender."""
    if sender not in xs:
        return ""
    kind = "faulty" if faulty else "ok"
    targets = [n for n in (to if to is not None else xs) if n != sender and n in xs]
    x0 = xs[sender]
    lines = "".join(f'<line x1="{x0}" y1="{y:.0f}" x2="{xs[n]}" y2="{y:.0f}" '
                    f'marker-end="url(#head-{kind})" data-to="{escape(n)}"/>' for n in targets)
    right = any(xs[n] > x0 for n in targets) or not targets
    anchor, dx = ("start", 8) if right else ("end", -8)
    return (f'<g class="msg msg-{kind}" data-from="{escape(sender)}">{lines}'
            f'<circle cx="{x0}" cy="{y:.0f}" r="2.5"/>'
            f'<text x="{x0 + dx}" y="{y - 3:.0f}" text-anchor="{anchor}">{escape(label)}</text>'
            f'</g>')


def _marks(marks: list[Mark], xs: dict[str, float], y: float) -> list[str]:
    """Badges centred on their lanes, stacked per lane."""
    out, stacked = [], dict.fromkeys(xs, 0)
    for mark in marks:
        if mark.lane not in xs:
            continue
        at = y + MARK_GAP * stacked[mark.lane]
        stacked[mark.lane] += 1
        w = 7 * len(mark.text) + 10
        x = xs[mark.lane]
        kind = mark.kind if mark.kind in MARK_KINDS else "note"  # a plug-in's text is no class
        out.append(f'<g class="mark mark-{kind}" data-lane="{escape(mark.lane)}">'
                   f'<rect x="{x - w / 2:.0f}" y="{at - 10:.0f}" width="{w}" height="14" '
                   f'rx="4"/><text x="{x}" y="{at:.0f}" text-anchor="middle">'
                   f'{escape(mark.text)}</text></g>')
    return out
