"""The executive report as a reader sees it: in a real browser.

Debian's ``chromium`` (``/usr/bin/chromium``, or ``VGA_CHROMIUM``), headless,
driven by Playwright's Python API; Playwright's own browsers are never
downloaded. The report of a small sample, whose largest Frustrated Power
Users carry hostile names, is opened from disk and must:

- render: a title, the executive summary heading visible, real text;
- load every image (complete, a natural width) and give each alt text;
- leave the console without errors and raise no page errors;
- ask nothing of the network: every request that is not ``file:`` or
  ``data:`` is recorded and refused (web sockets too);
- show hostile account names as text, run none of them;
- fit a 1280 px window: no horizontal scrolling, no table, figure or
  image sticking out of its section, no box hiding or scrolling its content,
  no text spilling out of a card, note, caption or table cell;
- lay out the KPI cards of one row at equal widths.

Screenshots of the first screen (1280 x 900) and of the whole page go to
``test-output/`` (``VGA_TEST_OUTPUT`` overrides) for a person to look at.

Every check is a function returning the problems it found, so that
:func:`test_checks_catch_a_broken_page` can show each one fails on a page
built to be wrong, and :func:`test_checks_pass_a_sound_page` that none fires
on a sound one. The checks look at all images, tables and cards, whatever
sections the report has.

``.ci/run`` installs chromium and sets ``VGA_REQUIRE_BROWSER=1``: there a
missing browser (or Playwright) fails the tests; elsewhere they skip, saying why.
"""

from __future__ import annotations

import csv
import html
import os
import re
import struct
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path(os.environ.get("VGA_CHROMIUM", "/usr/bin/chromium"))
OUTPUT = Path(os.environ.get("VGA_TEST_OUTPUT", ROOT / "test-output"))
WIDTH, HEIGHT = 1280, 900
#: The only URL schemes a self-contained report may load.
LOCAL = ("file:", "data:")
#: Account names a report must show as text and never run.
HOSTILE_NAMES = [
    '<img src=x onerror="window.__pwned=1">',
    "<script>window.__pwned=2</script>",
    '=HYPERLINK("http://evil.example")',
    'Café & "Söhne"',
]
#: Widths of the KPI cards of one group may differ by this much (px): rounding.
KPI_TOLERANCE = 3.0


# --------------------------------------------------------------------------
# The browser


def _unavailable(reason: str):
    if os.environ.get("VGA_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{reason}; VGA_REQUIRE_BROWSER=1 says this machine must test the report in a browser "
                    "(.ci/run installs Debian's chromium)", pytrace=False)
    pytest.skip(f"{reason}; install Debian's chromium (apt-get install chromium) and Playwright "
                "(pip install -e '.[dev]') to run the browser tests")


@pytest.fixture(scope="module")
def browser():
    """Debian's chromium, headless, for the whole module."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("Playwright is not installed")
    if not CHROMIUM.is_file():
        _unavailable(f"no chromium at {CHROMIUM}")
    with sync_playwright() as p:
        # Debian's chromium, never a browser downloaded by Playwright.
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield chromium
        chromium.close()


@dataclass
class Visit:
    """One page opened in a fresh browser context, and what it did."""

    page: object
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    #: Requests for anything not ``file:`` or ``data:``: refused, and a defect.
    outside: list[str] = field(default_factory=list)


def visit(browser, path: Path) -> Visit:
    """Open ``path`` at 1280 x 900; refuse and record every non-local request;
    wait until every image (lazy ones too) has loaded or failed."""
    context = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT}, service_workers="block")
    seen = Visit(page=None)

    def route(r):
        if r.request.url.startswith(LOCAL):
            r.continue_()
        else:
            seen.outside.append(r.request.url)
            r.abort("blockedbyclient")

    def socket(ws):
        seen.outside.append(ws.url)
        ws.close()

    context.route("**/*", route)
    context.route_web_socket(re.compile(".*"), socket)
    page = context.new_page()
    page.on("console", lambda m: m.type == "error" and seen.console_errors.append(
        f"{m.text} ({(m.location or {}).get('url', '')[:80]})"))
    page.on("pageerror", lambda e: seen.page_errors.append(str(e)))
    page.on("request", lambda r: seen.requests.append(r.url))
    page.on("websocket", lambda ws: ws.url not in seen.outside and seen.outside.append(ws.url))
    page.goto(path.resolve().as_uri(), wait_until="load")
    # Scroll through once so that lazily loaded images load, then back up.
    page.evaluate("() => window.scrollTo(0, document.scrollingElement.scrollHeight)")
    page.evaluate("""() => Promise.race([
        Promise.all(Array.from(document.images).filter(i => !i.complete)
            .map(i => new Promise(done => { i.addEventListener('load', done); i.addEventListener('error', done); }))),
        new Promise(done => setTimeout(done, 5000))])""")
    page.evaluate("() => window.scrollTo(0, 0)")
    page.wait_for_timeout(100)  # late console messages and requests
    seen.page = page
    return seen


# --------------------------------------------------------------------------
# The checks: each returns the problems it found, in words

#: A short description of an element for a problem message: what it is, the
#: section it is in, and the start of its text or its image source.
_WHERE = """
function where(el) {
  const section = el.closest('section');
  const heading = section && section.querySelector('h1, h2');
  const title = heading ? heading.textContent.replace(/\\u00b6/g, '').trim() : 'page';
  const what = el.tagName.toLowerCase() + (el.className && typeof el.className === 'string' ? '.' + el.className.split(' ')[0] : '');
  const text = (el.tagName === 'IMG' ? (el.getAttribute('src') || '') : el.innerText || '').replace(/\\s+/g, ' ').slice(0, 60);
  return `${what} in "${title}" (${text})`;
}
"""


def rendering_problems(page, min_words: int = 300) -> list[str]:
    """A title, a visible heading naming the executive summary, real text."""
    problems = []
    if not page.title().strip():
        problems.append("the page has no title")
    summary = page.get_by_role("heading", name=re.compile(r"executive summary", re.I))
    if not summary.count() or not summary.first.is_visible():
        problems.append("no visible 'Executive summary' heading")
    words = len(page.inner_text("body").split())
    if words < min_words:
        problems.append(f"the page shows {words} words, fewer than {min_words}")
    return problems


def image_problems(page) -> list[str]:
    """Every <img> loaded (complete, natural width > 0) and has alt text."""
    return page.evaluate("() => {" + _WHERE + """
      const out = [];
      for (const img of document.images) {
        if (!img.complete || img.naturalWidth === 0) out.push('did not load: ' + where(img));
        if (!(img.getAttribute('alt') || '').trim()) out.push('no alt text: ' + where(img));
      }
      return out;
    }""")


def console_problems(seen: Visit) -> list[str]:
    return [f"console error: {m}" for m in seen.console_errors] + [f"page error: {m}" for m in seen.page_errors]


def network_problems(seen: Visit) -> list[str]:
    return [f"asked the network for {url[:120]}" for url in seen.outside]


def injection_problems(page, names: list[str]) -> list[str]:
    """Each name shown literally as text; nothing from them ran or became markup."""
    text = page.inner_text("body")
    problems = [f"not shown as text: {name!r}" for name in names if name not in text]
    pwned = page.evaluate("() => typeof window.__pwned === 'undefined' ? null : String(window.__pwned)")
    if pwned is not None:
        problems.append(f"a name ran as script: window.__pwned = {pwned}")
    injected = page.evaluate("""() => document.querySelectorAll('img[src="x"]').length
        + Array.from(document.scripts).filter(s => s.text.includes('__pwned')).length""")
    if injected:
        problems.append(f"{injected} element(s) made from a name's markup (img[src=x] or a script)")
    return problems


def overflow_problems(page) -> list[str]:
    """Nothing wider than the window, nothing sticking out of its section,
    no box hiding or scrolling content wider than itself (cut-off text), no
    text spilling out of a card, note, caption or table cell."""
    return page.evaluate("() => {" + _WHERE + """
      const out = [];
      const root = document.scrollingElement;
      if (root.scrollWidth > window.innerWidth)
        out.push(`the page is ${root.scrollWidth} px wide in a ${window.innerWidth} px window`);
      for (const el of document.querySelectorAll('table, figure, img, pre, svg, .vga-kpis, .vga-note, .vga-finding')) {
        const box = el.closest('section') || document.body;
        const style = getComputedStyle(box);
        const right = box.getBoundingClientRect().right - parseFloat(style.paddingRight) - parseFloat(style.borderRightWidth);
        const sticks = el.getBoundingClientRect().right - right;
        if (sticks > 1) out.push(`sticks out ${Math.round(sticks)} px: ${where(el)}`);
      }
      for (const el of document.body.querySelectorAll('*')) {
        const o = getComputedStyle(el).overflowX;
        if (o !== 'visible' && el.scrollWidth > el.clientWidth + 1)
          out.push(`content ${el.scrollWidth - el.clientWidth} px wider than its box (overflow ${o}): ${where(el)}`);
      }
      // Boxes that keep their width whatever they hold: text wider than the
      // box spills over its border (a long figure in a KPI card, say).
      for (const el of document.querySelectorAll('.vga-kpi, .vga-note, .vga-finding, figcaption, th, td')) {
        if (getComputedStyle(el).overflowX === 'visible' && el.scrollWidth > el.clientWidth + 1)
          out.push(`text spills ${el.scrollWidth - el.clientWidth} px out of its box: ${where(el)}`);
      }
      return out;
    }""")


def kpi_groups(page) -> list[list[dict]]:
    """The KPI cards as laid out (``.vga-kpis`` > ``.vga-kpi``, see
    vga/present/blocks.py): one list per group of {row, width, text}, ``row``
    counting from 0 when the cards wrap."""
    return page.evaluate("""() => Array.from(document.querySelectorAll('.vga-kpis')).map(group => {
      const cards = Array.from(group.querySelectorAll(':scope > .vga-kpi')).map(card => {
        const r = card.getBoundingClientRect();
        return {top: r.top, width: r.width, text: card.innerText.replace(/\\s+/g, ' ').slice(0, 40)};
      });
      const tops = [];
      for (const c of cards) if (!tops.some(t => Math.abs(t - c.top) <= 2)) tops.push(c.top);
      return cards.map(c => ({row: tops.findIndex(t => Math.abs(t - c.top) <= 2), width: c.width, text: c.text}));
    })""")


def kpi_problems(page) -> list[str]:
    """The cards of one group are equally wide, whether or not they wrap: a
    card left alone on a second row and stretched across it reads as more
    important than the others, and is a layout defect."""
    problems = []
    for cards in kpi_groups(page):
        widths = [c["width"] for c in cards]
        if len(cards) > 1 and max(widths) - min(widths) > KPI_TOLERANCE:
            rows = [sum(1 for c in cards if c["row"] == r) for r in range(max(c["row"] for c in cards) + 1)]
            shown = ", ".join(f"{c['text']!r} {c['width']:.0f} px" for c in cards)
            problems.append(f"KPI cards of one group differ in width by {max(widths) - min(widths):.0f} px "
                            f"(rows of {' + '.join(map(str, rows))} cards): {shown}")
    return problems


def all_problems(seen: Visit, names: list[str], min_words: int = 300) -> dict[str, list[str]]:
    page = seen.page
    return {
        "rendering": rendering_problems(page, min_words),
        "images": image_problems(page),
        "console": console_problems(seen),
        "network": network_problems(seen),
        "injection": injection_problems(page, names),
        "overflow": overflow_problems(page),
        "kpis": kpi_problems(page),
    }


def png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", head[16:24])


# --------------------------------------------------------------------------
# The report of a sample with hostile account names


def _largest_frustrated(folder: Path, n: int) -> list[str]:
    """Ids of the ``n`` Frustrated Power Users with the largest ARR: the
    ones the report lists first. Only the quadrant step is computed."""
    from vga.run import pipeline
    from vga.config import load_config
    from vga.load import load_folder, to_inputs
    from vga.periods import parse_period
    from vga.analysis.quadrant import FRUSTRATED

    config = load_config(None, folder)
    outputs, _ = pipeline.compute(to_inputs(load_folder(folder, config)), parse_period("2026Q3"), config,
                                  keys=["quadrant_view"])
    quadrants = outputs["quadrants.csv"]
    top = quadrants[quadrants["quadrant"] == FRUSTRATED].sort_values("arr", ascending=False)
    assert len(top) >= n, "the sample has too few Frustrated Power Users"
    return list(top["account_id"].head(n))


def _rename_accounts(accounts_csv: Path, names: dict[str, str]) -> None:
    """Rewrite account_name for the given ids; every other cell stays as written."""
    with accounts_csv.open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    header = rows[0]
    id_col, name_col = header.index("account_id"), header.index("account_name")
    renamed = 0
    for row in rows[1:]:
        if row[id_col] in names:
            row[name_col] = names[row[id_col]]
            renamed += 1
    assert renamed >= len(names), "an account to rename was not found"
    with accounts_csv.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)


@pytest.fixture(scope="module")
def hostile_report(tmp_path_factory) -> Path:
    """report.html of a 300-account sample whose four largest Frustrated
    Power Users carry :data:`HOSTILE_NAMES`."""
    from vga.run.runner import run_period
    from vga.sample import write_sample

    folder = tmp_path_factory.mktemp("hostile-sample")
    write_sample(folder, accounts=300, seed=11)
    ids = _largest_frustrated(folder, len(HOSTILE_NAMES))
    _rename_accounts(folder / "accounts.csv", dict(zip(ids, HOSTILE_NAMES)))
    run = run_period(folder, "2026Q3", out=tmp_path_factory.mktemp("hostile-reports"), quiet=True)
    return run / "report.html"


@pytest.fixture(scope="module")
def report(browser, hostile_report) -> Visit:
    """The report open in chromium; screenshots taken before any check."""
    seen = visit(browser, hostile_report)
    OUTPUT.mkdir(parents=True, exist_ok=True)
    seen.page.screenshot(path=OUTPUT / "report-first-screen.png")
    seen.page.screenshot(path=OUTPUT / "report-full-page.png", full_page=True)
    # Every check below looks at the detail too: each folded part is opened.
    seen.page.evaluate("() => document.querySelectorAll('details').forEach(d => { d.open = true; })")
    seen.page.wait_for_timeout(100)
    yield seen
    seen.page.context.close()


@pytest.mark.slow
def test_report_renders(report):
    assert rendering_problems(report.page) == []


@pytest.mark.slow
def test_every_image_loads_with_alt_text(report):
    assert report.page.evaluate("() => document.images.length") > 0, "the report shows no image at all"
    assert image_problems(report.page) == []


@pytest.mark.slow
def test_console_is_clean(report):
    assert console_problems(report) == []


@pytest.mark.slow
def test_nothing_leaves_the_machine(report):
    assert network_problems(report) == []
    # The page itself is the only request: images are embedded as data: URIs.
    assert [u for u in report.requests if not u.startswith("data:")] == [report.page.url]


@pytest.mark.slow
def test_hostile_names_show_as_text(report):
    assert injection_problems(report.page, HOSTILE_NAMES) == []


@pytest.mark.slow
def test_report_fits_1280_px(report):
    assert overflow_problems(report.page) == []


@pytest.mark.slow
def test_kpi_cards_are_even(report):
    assert any(kpi_groups(report.page)), "no KPI cards found (.vga-kpis > .vga-kpi): did the class names change?"
    assert kpi_problems(report.page) == []


@pytest.mark.slow
def test_screenshots_are_kept(report, capsys):
    first, full = OUTPUT / "report-first-screen.png", OUTPUT / "report-full-page.png"
    assert png_size(first) == (WIDTH, HEIGHT)
    width, height = png_size(full)
    assert width == WIDTH and height > HEIGHT
    with capsys.disabled():
        print(f"\n[browser] first screen: {first}\n[browser] whole page:   {full}")


# --------------------------------------------------------------------------
# The checks themselves can fail, and do not fire on a sound page

_PNG_1PX = ("data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9Q"
            "DwADhQGAWjR9awAAAABJRU5ErkJggg==")


def _page(body: str) -> str:
    from vga.run.report import CSS  # the report's own styles: the cards and tables behave as there

    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Check</title>'
            f"<style>{CSS}</style></head><body><main><section class=\"vga-section\">{body}</section></main>"
            "</body></html>")


def _cards(values: list[str]) -> str:
    return '<div class="vga-kpis">' + "".join(
        f'<div class="vga-kpi"><div class="vga-kpi-value">{v}</div><div class="vga-kpi-label">label</div></div>'
        for v in values) + "</div>"


def test_checks_catch_a_broken_page(browser, tmp_path):
    broken = tmp_path / "broken.html"
    broken.write_text(_page(
        "<h1>Quarterly numbers</h1><p>Too short.</p>"
        '<script src="https://example.com/x.js"></script>'
        '<img src="missing.png" alt="a chart that is not there">'
        f'<img src="{_PNG_1PX}">'
        '<script>console.error("boom"); fetch("https://example.com/api").catch(() => {});'
        'new WebSocket("wss://example.com/live");</script>'
        "<script>throw new Error('uncaught in a presenter');</script>"
        + HOSTILE_NAMES[0] + HOSTILE_NAMES[1]
        + f"<table><tr><td style=\"white-space:nowrap\">{'wide' * 600}</td></tr></table>"
        + '<div style="overflow:hidden;white-space:nowrap;width:200px">a long text cut off by its box, '
          'which a reader never sees the end of</div>'
        + '<div class="vga-kpi" style="width:100px"><div class="vga-kpi-value">1,127,524,000,000</div></div>'
        # Uneven cards whatever the report's CSS does with them: one takes three shares of the row.
        + _cards(["1", "2", "3"]).replace('class="vga-kpis"', 'class="vga-kpis" style="display:flex"')
        .replace('<div class="vga-kpi">', '<div class="vga-kpi" style="flex:1">', 2)
        .replace('<div class="vga-kpi">', '<div class="vga-kpi" style="flex:3">')
    ), encoding="utf-8")
    seen = visit(browser, broken)
    try:
        found = all_problems(seen, HOSTILE_NAMES)
    finally:
        seen.page.context.close()
    text = {check: "\n".join(problems) for check, problems in found.items()}
    assert "Executive summary" in text["rendering"] and "words" in text["rendering"]
    assert "did not load" in text["images"] and "missing.png" in text["images"]
    assert "no alt text" in text["images"]
    assert "boom" in text["console"] and "uncaught in a presenter" in text["console"]
    assert "https://example.com/x.js" in text["network"]
    assert "https://example.com/api" in text["network"]
    assert "wss://example.com/live" in text["network"]
    assert "window.__pwned = " in text["injection"] and "img[src=x]" in text["injection"]
    assert "not shown as text" in text["injection"]
    assert "the page is" in text["overflow"] and "sticks out" in text["overflow"]
    assert "overflow hidden" in text["overflow"]
    assert "text spills" in text["overflow"] and "1,127,524,000,000" in text["overflow"]
    assert "KPI cards of one group differ" in text["kpis"]


def test_checks_pass_a_sound_page(browser, tmp_path):
    sound = tmp_path / "sound.html"
    names = "".join(f"<tr><td>{html.escape(n)}</td><td>$1,000</td></tr>" for n in HOSTILE_NAMES)
    sound.write_text(_page(
        "<h1>Executive summary</h1>"
        + _cards(["1,204", "$12.4M", "8.1%", "37"])
        + f"<p>{'Words a reader can read. ' * 80}</p>"
        + f'<figure class="vga-figure"><img src="{_PNG_1PX}" alt="A one-pixel chart"></figure>'
        + f'<table class="vga-table"><tr><th>Account</th><th>ARR</th></tr>{names}</table>'
    ), encoding="utf-8")
    seen = visit(browser, sound)
    try:
        found = all_problems(seen, HOSTILE_NAMES)
        groups = kpi_groups(seen.page)
    finally:
        seen.page.context.close()
    assert found == {check: [] for check in found}
    assert [[c["row"] for c in g] for g in groups] == [[0, 0, 0, 0]]
