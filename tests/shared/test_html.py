"""Traces as HTML: the same story as the text form, in one well-formed page."""

from __future__ import annotations

from html.parser import HTMLParser

from bftcheck.checker.bfs import check
from bftcheck.cli import main
from bftcheck.html import render_html
from bftcheck.model import TendermintModel
from bftcheck.model.story import diff
from bftcheck.presets import preset
from bftcheck.trace import from_path, render


class Cells(HTMLParser):
    """Collects the text of each table row, and checks tags are balanced."""

    VOID = {"meta", "br"}

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.stack: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag not in self.VOID:
            self.stack.append(tag)
        if tag == "tr":
            self.rows.append([])

    def handle_endtag(self, tag):
        assert self.stack.pop() == tag

    def handle_data(self, data):
        if self.rows and data.strip():
            self.rows[-1].append(data.strip())


def fork_trace():
    model = TendermintModel(preset("n4-f2"))
    result = check(model, [p for p in model.properties() if p.name == "agreement"])
    return model, from_path(model, model.cfg, result.paths["agreement"], "agreement")


def test_html_tells_the_same_story_as_text():
    model, trace = fork_trace()
    page = Cells()
    page.feed(render_html(model, trace))
    assert page.stack == []  # every tag closed
    header, *steps = page.rows
    assert header == ["#", "action", "what changed"]
    assert len(steps) == len(trace) + 1
    views = [model.decode(st.state) for st in trace.steps]
    for i, row in enumerate(steps[1:], start=1):
        assert row[0] == str(i) and row[1] == trace.steps[i].action
        assert row[2:] == diff(views[i - 1], views[i])  # the same change lines as the text
        assert f"{i:3d}. {trace.steps[i].action}" in render(model, trace)
    assert "p1.decision: ['nil'] -> ['v0']" in sum(steps, [])
    assert "<h1>Counterexample to agreement: 7 steps</h1>" in render_html(model, trace)


def test_cli_writes_html_for_a_violation_else_a_witness(tmp_path, capsys):
    out = tmp_path / "fork.html"
    assert main(["check", "--preset", "n4-f2", "--quiet", "--trace-html", str(out)]) == 1
    assert out.read_text().startswith("<!DOCTYPE html>")
    safe = tmp_path / "witness.html"  # nothing violated: the first witness
    assert main(["check", "--preset", "n4-f1", "--quiet", "--trace-html", str(safe)]) == 0
    assert "Witness of decision-reachable" in safe.read_text()
    nothing = tmp_path / "none.html"  # neither a violation nor a witness: no page
    assert main(["check", "--preset", "n4-f1", "--property", "agreement", "--quiet",
                 "--trace-html", str(nothing)]) == 0
    assert not nothing.exists()
    itf = tmp_path / "fork.itf.json"
    main(["check", "--preset", "n4-f2", "--quiet", "--trace-out", str(itf)])
    replayed = tmp_path / "replayed.html"
    assert main(["replay", str(itf), "--html", str(replayed)]) == 1
    assert replayed.read_text() == out.read_text()
    capsys.readouterr()
