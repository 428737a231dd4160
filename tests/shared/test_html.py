"""Traces as HTML: what the violation is in words, the sequence chart (lanes,
arrows to whom a message reached, split bands, locks and decisions), then the
same story as the text form, in one well-formed, self-contained page. The page
in a real browser: test_html_browser.py."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import pytest

from bftcheck.checker.interface import Vocabulary
from bftcheck.cli import main
from bftcheck.html import render_html
from bftcheck.model.story import diff
from bftcheck.sequence import render_svg
from bftcheck.trace import render
from helpers import pictured

SVG = "{http://www.w3.org/2000/svg}"


class Page(HTMLParser):
    """The text of each table row and of the verdict; checks tags are balanced."""

    VOID = {"meta", "br"}

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.verdict: list[str] = []
        self.stack: list[str] = []
        self.in_table = self.in_verdict = False

    def handle_starttag(self, tag, attrs):
        if tag not in self.VOID:
            self.stack.append(tag)
        self.in_table |= tag == "table"
        self.in_verdict |= tag == "section" and "verdict" in (dict(attrs).get("class") or "")
        if tag == "tr" and self.in_table:
            self.rows.append([])

    def handle_endtag(self, tag):
        assert self.stack.pop() == tag
        self.in_table &= tag != "table"
        self.in_verdict &= tag != "section"

    def handle_data(self, data):
        if self.in_table and data.strip():
            self.rows[-1].append(data.strip())
        if self.in_verdict and data.strip():
            self.verdict.append(data.strip())


@pytest.fixture(scope="module")
def traces(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pictured")
    return {name: pictured(name, folder) for name in
            ("n4-f2-fork", "no-block-sync-recovery", "bracha-quorum-off-by-one")}


def chart(model, trace) -> ET.Element:
    return ET.fromstring(render_svg(model, trace))  # well-formed XML, or this raises


def lanes(svg: ET.Element) -> dict[str, str]:
    return {g.get("data-lane"): g.get("class") for g in svg.iter(SVG + "g")
            if "lane" in g.get("class", "").split()}


def step(svg: ET.Element, i: int) -> ET.Element:
    (g,) = [g for g in svg.iter(SVG + "g") if g.get("data-step") == str(i)]
    return g


def arrows(g: ET.Element) -> list[tuple[str, str, list[str]]]:
    """(sender, label, lanes with an arrowhead) of each message of a step."""
    return [(m.get("data-from"), m.find(SVG + "text").text,
             [line.get("data-to") for line in m.iter(SVG + "line")])
            for m in g.iter(SVG + "g") if "msg" in m.get("class", "").split()]


def marks(g: ET.Element) -> list[tuple[str, str, str]]:
    return [(m.get("data-lane"), m.get("class").split()[1], m.find(SVG + "text").text)
            for m in g.iter(SVG + "g") if "mark" in m.get("class", "").split()]


def test_html_tells_the_same_story_as_text(traces):
    model, trace = traces["n4-f2-fork"]
    page = Page()
    page.feed(render_html(model, trace))
    assert page.stack == []  # every tag closed
    header, *rows = page.rows
    assert header == ["#", "action", "what changed"]
    assert len(rows) == len(trace) + 1
    views = [model.decode(st.state) for st in trace.steps]
    for i, row in enumerate(rows[1:], start=1):
        assert row[0] == str(i) and row[1] == trace.steps[i].action
        assert row[2:] == diff(views[i - 1], views[i])  # the same change lines as the text
        assert f"{i:3d}. {trace.steps[i].action}" in render(model, trace)
    assert "<h1>Counterexample to agreement: 7 steps</h1>" in render_html(model, trace)


def test_the_fork_is_stated_in_words_with_the_provably_faulty(traces):
    model, trace = traces["n4-f2-fork"]
    page = Page()
    page.feed(render_html(model, trace))
    assert page.verdict == [
        "agreement (no two correct validators decide differently at a height) is violated "
        "at step 7.",
        "A fork at height 0: p1 decided v0 at step 3, p2 decided v1 at step 7. Correct "
        "validators decided differently.",
        "p3 is provably faulty: it precommitted v0 in round 0, then prevoted v1 in round 1 "
        "with no proof-of-lock for v1 in round 0 (amnesia).",
        "p4 is provably faulty: it precommitted v0 in round 0, then prevoted v1 in round 1 "
        "with no proof-of-lock for v1 in round 0 (amnesia).",
        "The provably faulty hold 2 of 4 voting power, more than 1/3 (Byzantine in this "
        "configuration: p3, p4)."]


def test_the_fork_chart_has_a_lane_per_validator_and_a_row_per_step(traces):
    model, trace = traces["n4-f2-fork"]
    svg = chart(model, trace)
    assert lanes(svg) == {"p1": "lane lane-ok", "p2": "lane lane-ok",
                          "p3": "lane lane-faulty", "p4": "lane lane-faulty"}
    for i, st in enumerate(trace.steps):
        assert step(svg, i).find(SVG + "title").text == f"{i}. {st.action}"
    assert arrows(step(svg, 0)) == [("p1", "PROPOSAL h0 r0 v0 vr-1", ["p2", "p3", "p4"])]
    assert arrows(step(svg, 2)) == [("p3", "PREVOTE h0 r0 v0", ["p1", "p2", "p4"]),
                                    ("p4", "PREVOTE h0 r0 v0", ["p1", "p2", "p3"]),
                                    ("p1", "PRECOMMIT h0 r0 v0", ["p2", "p3", "p4"])]
    faulty = [m.get("data-from") for m in step(svg, 2).iter(SVG + "g")
              if m.get("class") == "msg msg-faulty"]
    assert faulty == ["p3", "p4"]  # Byzantine messages drawn apart
    assert marks(step(svg, 2)) == [("p1", "mark-lock", "lock v0 r0")]
    assert ("p1", "mark-decide", "decide v0 at h0") in marks(step(svg, 3))
    assert ("p2", "mark-decide", "decide v1 at h0") in marks(step(svg, 7))
    # the actor's dot sits on its lane
    x = {g.get("data-lane"): g.find(SVG + "line").get("x1") for g in svg.iter(SVG + "g")
         if g.get("data-lane") and "lane" in g.get("class").split()}
    assert step(svg, 5).find(SVG + "circle").get("cx") == x["p2"]


def test_a_split_is_a_band_naming_its_components_and_messages_reach_only_their_side(traces):
    model, trace = traces["no-block-sync-recovery"]
    svg = chart(model, trace)
    (band,) = [g for g in svg.iter(SVG + "g") if g.get("class") == "split"]
    assert band.get("data-split") == "{p1} | {p2,p3,p4}"
    assert [t.text for t in band.iter(SVG + "text")] == ["split:", "{p1}", "{p2,p3,p4}"]
    split_at = next(i for i, st in enumerate(trace.steps) if st.action.startswith("Split"))
    assert trace.steps[-1].action.startswith("Heal")
    top = float(step(svg, split_at).find(SVG + "line").get("y1"))
    bottom = float(step(svg, len(trace)).find(SVG + "line").get("y1"))  # the heal ends it
    rects = band.findall(SVG + "rect")
    assert len(rects) == 4 and {float(r.get("y")) for r in rects} == {top}
    assert {float(r.get("y")) + float(r.get("height")) for r in rects} == {bottom}
    inside = [arrows(step(svg, i)) for i in range(split_at + 1, len(trace))]
    assert ("p3", "PRECOMMIT h0 r0 v0", ["p2", "p4"]) in sum(inside, [])  # not p1
    page = render_html(model, trace)
    assert page.count("the network is whole, and from here no run") == 2  # verdict and end


def test_the_example_model_draws_through_its_vocabulary(traces):
    model, trace = traces["bracha-quorum-off-by-one"]
    svg = chart(model, trace)
    assert lanes(svg)["p4"] == "lane lane-faulty"
    drawn = [arrows(step(svg, i)) for i in range(len(trace) + 1)]
    assert drawn[1] == [("p4", "INITIAL v0", ["p1", "p2", "p3"])]
    assert ("p1", "ECHO v0", ["p2", "p3", "p4"]) in drawn[2]
    delivered = [m for i in range(len(trace) + 1) for m in marks(step(svg, i))
                 if m[1] == "mark-decide"]
    assert delivered == [("p1", "mark-decide", "deliver v0"), ("p2", "mark-decide", "deliver v1")]
    page = Page()
    page.feed(render_html(model, trace))
    assert page.verdict[1] == ("p1 delivered v0 at step 6, p2 delivered v1 at step 12: correct "
                               "processes delivered different values.")


def test_a_model_without_a_vocabulary_gets_lanes_from_its_views(traces):
    """The default vocabulary: a lane per key of the dict-valued variables, a
    note per changed key, no arrows (it cannot know the messages)."""
    model, trace = traces["bracha-quorum-off-by-one"]

    class Plain:
        vocabulary = None

        def __getattr__(self, name):
            return getattr(model, name)

    svg = chart(Plain(), trace)
    assert lanes(svg) == {p: "lane lane-ok" for p in ("p1", "p2", "p3", "p4")}
    assert marks(step(svg, 2)) == [("p1", "mark-note", "echoed: None -> 'v0'")]
    assert marks(step(svg, 1)) == [("p4", "mark-note", "+ byzantine_sent: 'INITIAL v0'")]
    assert all(arrows(step(svg, i)) == [] for i in range(len(trace) + 1))
    assert Vocabulary().verdict("agreement", None, [], b"") == []


def test_the_page_is_self_contained(traces):
    for model, trace in traces.values():
        page = render_html(model, trace)
        links = re.findall(r"(?:src|href)=\"([^\"]*)\"|url\(([^)#][^)]*)\)", page)
        assert links == []  # no scripts, styles, fonts or images fetched
        assert page.count("<svg") == 1 and "<script" not in page


def test_cli_writes_html_for_a_violation_else_a_witness(tmp_path, capsys):
    out = tmp_path / "fork.html"
    assert main(["check", "--preset", "n4-f2", "--quiet", "--trace-html", str(out)]) == 1
    assert out.read_text().startswith("<!DOCTYPE html>")
    safe = tmp_path / "witness.html"  # nothing violated: the first witness
    assert main(["check", "--preset", "n4-f1", "--quiet", "--trace-html", str(safe)]) == 0
    assert "decision-reachable (some correct validator decides) is witnessed at step" in \
        safe.read_text()
    nothing = tmp_path / "none.html"  # neither a violation nor a witness: no page
    assert main(["check", "--preset", "n4-f1", "--property", "agreement", "--quiet",
                 "--trace-html", str(nothing)]) == 0
    assert not nothing.exists()
    itf = tmp_path / "fork.itf.json"
    main(["check", "--preset", "n4-f2", "--quiet", "--trace-out", str(itf)])
    replayed = tmp_path / "replayed.html"
    assert main(["replay", str(itf), "--html", str(replayed)]) == 1
    checked, again = out.read_text(), replayed.read_text()
    start = '<h2>The run'
    assert again[again.index(start):] == checked[checked.index(start):]  # the same run
    said = Page()
    said.feed(again)
    assert said.stack == []
    assert "result: violation confirmed (the trace claims agreement) (exit 1)" in again
    assert "  agreement fails at step 7" in again and "replay: 7 steps" in again
    assert "result:" not in checked
    capsys.readouterr()
