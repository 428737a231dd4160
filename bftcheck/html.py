"""A trace as one self-contained HTML page (nothing is fetched when it is
viewed): what was violated or witnessed, in words; the message-sequence chart
(bftcheck/sequence.py); then the step-by-step story of the text form (the
action, then only what changed) and its concluding line; after `bftcheck
replay`, replay's result."""

from __future__ import annotations

from html import escape
from pathlib import Path

from bftcheck.checker.interface import Model, vocabulary
from bftcheck.sequence import render_svg
from bftcheck.trace import Trace, conclusion, story, title

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em; max-width: 90em; color: #111; }
h1 { font-size: 1.3em; } h2 { font-size: 1.1em; margin-top: 1.6em; } .config { color: #444; }
section.verdict { border-left: 4px solid #c22; background: #fff5f5; padding: 0.5em 1em; }
section.verdict.witness { border-color: #2a7; background: #f3fbf6; }
section.verdict p { margin: 0.35em 0; } .replay { font-family: monospace; }
.legend span { margin-right: 1.5em; font-size: 0.9em; }
.chart-wrap { overflow-x: auto; border: 1px solid #ddd; margin-top: 0.6em; }
svg.chart { font-family: system-ui, sans-serif; font-size: 11px; background: #fff; }
svg.chart .lane line { stroke: #888; stroke-width: 1.2; }
svg.chart .lane-faulty line { stroke: #c22; stroke-dasharray: 5 3; }
svg.chart .lane-name { font-size: 13px; font-weight: 600; }
svg.chart .lane-faulty .lane-name { fill: #c22; }
svg.chart .rule { stroke: #eee; } svg.chart rect.last { fill: #fff0f0; }
svg.chart .n { fill: #666; } svg.chart .action { font-family: monospace; }
svg.chart .network, svg.chart .split-name { fill: #236; font-weight: 600; }
svg.chart .network { font-size: 12px; paint-order: stroke; stroke: #fff; stroke-width: 3px; }
svg.chart .actor { fill: #111; }
svg.chart .msg line { stroke-width: 1.1; } svg.chart .msg-ok line { stroke: #246; }
svg.chart .msg-faulty line { stroke: #c22; stroke-dasharray: 4 2; }
svg.chart .msg text { font-size: 10px; paint-order: stroke; stroke: #fff; stroke-width: 3px; }
svg.chart .msg-ok text { fill: #246; } svg.chart .msg-faulty text { fill: #c22; }
svg.chart .msg-ok circle { fill: #246; } svg.chart .msg-faulty circle { fill: #c22; }
svg.chart .head-ok { fill: #246; } svg.chart .head-faulty { fill: #c22; }
svg.chart .mark rect { stroke-width: 1; } svg.chart .mark text { font-size: 10px; }
svg.chart .mark-note rect { fill: #f4f4f4; stroke: #bbb; }
svg.chart .mark-lock rect { fill: #fff3d6; stroke: #c90; }
svg.chart .mark-decide rect { fill: #dff5e3; stroke: #2a7; }
svg.chart .mark-decide text { font-weight: 700; }
table { border-collapse: collapse; width: 100%; }
td, th { border-top: 1px solid #ddd; padding: 0.4em; vertical-align: top; text-align: left; }
td.n { width: 3em; color: #666; } td.action { width: 30em; font-family: monospace; }
ul { margin: 0; padding-left: 1.2em; font-family: monospace; }
li.msg { color: #035; } li.byz { color: #a40; } tr.last { background: #fff3f3; }
p.end { font-weight: 600; }
"""

LEGEND = ('<p class="legend"><span>● who took the step</span><span>→ a message and the '
          'lanes it reached</span><span style="color:#c22">- - → a Byzantine message, and a '
          'Byzantine lane</span><span style="background:#fff3d6">lock</span>'
          '<span style="background:#dff5e3">decision</span><span style="background:#e3efff">'
          'a split: one tint per component</span></p>')


def render_html(model: Model, trace: Trace, replayed: list[str] | None = None) -> str:
    """The page; `replayed` is replay's report (its lines), shown when given."""
    heading = title(trace)
    config = vocabulary(model).describe_config(trace.config)
    end = conclusion(model, trace)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{escape(heading)}</title><style>{STYLE}</style></head><body>\n"
        f"<h1>{escape(heading)}: {len(trace)} steps</h1>\n"
        f"<p class=\"config\">{escape(config)}</p>\n"
        + _verdict(model, trace, end) + _replayed(replayed)
        + "<h2>The run, validator by validator</h2>\n" + LEGEND
        + f"<div class=\"chart-wrap\">{render_svg(model, trace)}</div>\n"
        + "<h2>Step by step</h2>\n" + _table(model, trace)
        + (f"<p class=\"end\">{escape(end)}</p>\n" if end else "")
        + "</body></html>\n"
    )


def _verdict(model: Model, trace: Trace, end: str | None) -> str:
    """What the trace shows, in words: the property, the model's account of the
    violation (vocabulary.verdict), and the concluding line."""
    if trace.prop is None:
        return ""
    described = {p.name: p.description for p in model.properties()}.get(trace.prop, "")
    last = len(trace)
    if trace.kind == "witness":
        said = [f"{trace.prop} ({described}) is witnessed at step {last}."]
    else:
        said = [f"{trace.prop} ({described}) is violated at step {last}."]
        views = [model.decode(st.state) for st in trace.steps]
        said += vocabulary(model).verdict(trace.prop, trace.config, views,
                                          trace.steps[-1].state)
        said += [end] if end else []
    kind = " witness" if trace.kind == "witness" else ""
    return (f"<section class=\"verdict{kind}\">"
            + "".join(f"<p>{escape(line)}</p>" for line in said) + "</section>\n")


def _replayed(lines: list[str] | None) -> str:
    if not lines:
        return ""
    return ("<section class=\"replayed\"><h2>Replay</h2>"
            + "".join(f"<p class=\"replay\">{escape(line)}</p>" for line in lines)
            + "</section>\n")


def _table(model: Model, trace: Trace) -> str:
    steps = story(model, trace)
    rows = [_row(i, action, changes, last=i == len(steps) - 1)
            for i, (action, changes) in enumerate(steps)]
    return ("<table><tr><th>#</th><th>action</th><th>what changed</th></tr>\n"
            + "\n".join(rows) + "\n</table>\n")


def _row(n: int, action: str, changes: list[str], last: bool) -> str:
    items = []
    for c in changes:
        cls = "byz" if c.startswith("byzantine") else ("msg" if c.startswith("+") else "")
        items.append(f"<li class=\"{cls}\">{escape(c)}</li>" if cls else f"<li>{escape(c)}</li>")
    tr = " class=\"last\"" if last else ""
    return (f"<tr{tr} id=\"step-{n}\"><td class=\"n\">{n}</td><td class=\"action\">"
            f"{escape(action)}</td><td><ul>{''.join(items)}</ul></td></tr>")


def write_html(path: str | Path, model: Model, trace: Trace,
               replayed: list[str] | None = None) -> None:
    """Write atomically, like the ITF writer."""
    from bftcheck.outputs import write_atomic

    write_atomic(path, render_html(model, trace, replayed), "HTML trace")
