"""The HTML traces as a person sees them: each pictured counterexample (the
n4-f2 fork, the no-block-sync Recovery counterexample, the example model's
fork; tests/helpers.py PICTURED) written by `bftcheck check --trace-html`,
opened in headless Chromium and kept as a whole-page screenshot in
benchmarks/screenshots/NAME.png.

    python benchmarks/trace_pictures.py [--write]

Per page: steps, lanes, arrows drawn, the page's size, and the time from
navigation to the load event in the browser. --write replaces the "## Trace
pictures" section of RESULTS.md. Needs Chromium and chromedriver (`apt-get
install chromium chromium-driver`) and the test extras (selenium).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))
from run import record_section, recorded_by, section_options  # noqa: E402

from helpers import PICTURED, headless_chromium, pictured  # noqa: E402

HEADING = "## Trace pictures"
SHOTS = HERE / "screenshots"
MEASURE = """
const nav = performance.getEntriesByType('navigation')[0];
return {lanes: document.querySelectorAll('svg g.lane').length,
        steps: document.querySelectorAll('svg g.step').length,
        arrows: document.querySelectorAll('svg g.msg line').length,
        width: document.documentElement.scrollWidth,
        height: document.documentElement.scrollHeight,
        load_ms: nav.loadEventEnd - nav.startTime};
"""


def picture(browser, name: str, folder: Path) -> dict:
    from bftcheck.html import write_html

    model, trace = pictured(name, folder)
    page = folder / f"{name}.html"
    write_html(page, model, trace)
    browser.get(page.as_uri())
    seen = browser.execute_script(MEASURE)
    browser.set_window_size(seen["width"] + 40, seen["height"] + 120)  # the whole page
    browser.get(page.as_uri())
    SHOTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(SHOTS / f"{name}.png"))
    return {**seen, "bytes": page.stat().st_size, "prop": trace.prop}


def main() -> None:
    opts = section_options()
    try:
        browser = headless_chromium()
    except LookupError as exc:
        sys.exit(f"trace_pictures: {exc}")
    rows = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for name in PICTURED:
                rows.append((name, picture(browser, name, Path(tmp))))
    finally:
        browser.quit()
    lines = [HEADING, "",
             f"{recorded_by('trace_pictures.py', False)}: each page opened in headless "
             f"Chromium, a whole-page screenshot kept in `benchmarks/screenshots/`.", "",
             "| screenshot | counterexample to | steps | lanes | arrows | HTML | load |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: |"]
    for name, r in rows:
        lines.append(f"| `screenshots/{name}.png` | {r['prop']} | {r['steps'] - 1} | "
                     f"{r['lanes']} | {r['arrows']} | {r['bytes'] / 1024:.0f} KiB | "
                     f"{r['load_ms']:.0f} ms |")
    record_section(HEADING, lines, opts.write)


if __name__ == "__main__":
    main()
