"""The HTML traces in a real headless browser (Chromium, driven by Selenium):
each page loads with nothing fetched, and every lane, step, message and story
row is laid out on it with a size. Chromium and its driver come from the
system's packages (`apt-get install chromium chromium-driver`; `.ci/run`
installs them); without them these tests fail, saying so."""

from __future__ import annotations

import pytest

from helpers import PICTURED, headless_chromium, pictured

pytestmark = pytest.mark.xdist_group("browser")


@pytest.fixture(scope="module")
def browser():
    try:
        session = headless_chromium()
    except LookupError as exc:
        pytest.fail(str(exc))
    yield session
    session.quit()


LAID_OUT = """
const size = el => { const b = el.getBoundingClientRect(); return b.width > 0 && b.height > 0; };
const all = sel => [...document.querySelectorAll(sel)];
return {
  title: document.title,
  lanes: all('svg g.lane').filter(size).map(g => g.dataset.lane),
  laneX: all('svg g.lane line').map(l => l.getBoundingClientRect().x),
  steps: all('svg g.step').filter(size).map(g => Number(g.dataset.step)),
  rows: all('table tr[id^=step-]').filter(size).map(r => Number(r.id.slice(5))),
  messages: all('svg g.msg line').filter(l => l.getTotalLength() > 0).length,
  drawnMessages: all('svg g.msg line').length,
  marks: all('svg g.mark text').filter(size).map(t => t.textContent),
  verdict: all('section.verdict p').filter(size).map(p => p.textContent),
  fetched: performance.getEntriesByType('resource').map(r => r.name),
  svgWidth: document.querySelector('svg.chart').getBoundingClientRect().width,
};
"""


@pytest.mark.parametrize("name", sorted(PICTURED))
def test_the_page_renders_every_lane_and_step(browser, tmp_path, name):
    from bftcheck.html import write_html
    from bftcheck.sequence import scenes

    model, trace = pictured(name, tmp_path)
    page = tmp_path / f"{name}.html"
    write_html(page, model, trace)
    browser.get(page.as_uri())
    seen = browser.execute_script(LAID_OUT)
    lanes, drawn = scenes(model, trace)
    assert seen["title"].endswith(trace.prop)
    assert seen["lanes"] == [lane.name for lane in lanes]
    assert seen["laneX"] == sorted(seen["laneX"]) and len(set(seen["laneX"])) == len(lanes)
    assert seen["steps"] == list(range(len(trace) + 1))
    assert seen["rows"] == list(range(len(trace) + 1))
    assert seen["messages"] == seen["drawnMessages"] > 0
    assert seen["marks"] == [m.text for scene in drawn for m in scene.marks
                             if m.lane in {lane.name for lane in lanes}]
    assert seen["verdict"][0].startswith(f"{trace.prop} (") and seen["fetched"] == []
    assert seen["svgWidth"] > 400
    png = browser.get_screenshot_as_png()
    assert png.startswith(b"\x89PNG") and len(png) > 10_000
