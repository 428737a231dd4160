"""A trace as one self-contained HTML page: the same story as the text form
(numbered steps, the action, then only what changed), for sharing."""

from __future__ import annotations

from html import escape
from pathlib import Path

from bftcheck.checker.interface import Model, vocabulary
from bftcheck.trace import Trace, story, title

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em; max-width: 70em; }
h1 { font-size: 1.3em; } .config { color: #444; }
table { border-collapse: collapse; width: 100%; }
td, th { border-top: 1px solid #ddd; padding: 0.4em; vertical-align: top; text-align: left; }
td.n { width: 3em; color: #666; } td.action { width: 30em; font-family: monospace; }
ul { margin: 0; padding-left: 1.2em; font-family: monospace; }
li.msg { color: #035; } li.byz { color: #a40; } tr.last { background: #fff3f3; }
"""


def render_html(model: Model, trace: Trace) -> str:
    heading = title(trace)
    steps = story(model, trace)
    rows = [_row(i, action, changes, last=i == len(steps) - 1)
            for i, (action, changes) in enumerate(steps)]
    config = vocabulary(model).describe_config(trace.config)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{escape(heading)}</title><style>{STYLE}</style></head><body>\n"
        f"<h1>{escape(heading)}: {len(trace)} steps</h1>\n"
        f"<p class=\"config\">{escape(config)}</p>\n"
        "<table><tr><th>#</th><th>action</th><th>what changed</th></tr>\n"
        + "\n".join(rows) + "\n</table></body></html>\n"
    )


def _row(n: int, action: str, changes: list[str], last: bool) -> str:
    items = []
    for c in changes:
        cls = "byz" if c.startswith("byzantine") else ("msg" if c.startswith("+") else "")
        items.append(f"<li class=\"{cls}\">{escape(c)}</li>" if cls else f"<li>{escape(c)}</li>")
    tr = " class=\"last\"" if last else ""
    return (f"<tr{tr}><td class=\"n\">{n}</td><td class=\"action\">{escape(action)}</td>"
            f"<td><ul>{''.join(items)}</ul></td></tr>")


def write_html(path: str | Path, model: Model, trace: Trace) -> None:
    """Write atomically, like the ITF writer."""
    from bftcheck.outputs import write_atomic

    write_atomic(path, render_html(model, trace), "HTML trace")
