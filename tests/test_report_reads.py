"""The report as an executive reads it, in a real browser, on the sample's run.

- the first screen at 1440 x 900 holds the three retention figures, the
  three first actions (each with an owner and money at risk) and the ARR
  bridge, all above the fold;
- the executive summary fits in two screens; the whole report, details
  folded, in at most 15;
- at 390 px wide nothing scrolls sideways;
- every glossary link leads to its entry, and every entry is linked;
- no raw code (column names, configuration keys, module paths, internal
  signal names) is shown anywhere, folded text included.

Screenshots of the first screen at both widths go to ``test-output/``.
The browser is the one of ``tests/test_browser.py`` (Debian's chromium).
"""

from __future__ import annotations

import json
import re

import pytest

from tests.test_browser import OUTPUT, browser, png_size  # noqa: F401  (the module's browser fixture)

WIDE, TALL = 1440, 900
NARROW, NARROW_TALL = 390, 844
#: Screens the whole report may take at 1440 x 900, its details folded.
SCREENS = 15
#: Codes that must never reach the page: they name columns, keys, modules or
#: internal signals, not things a reader knows.
RAW_CODES = [
    "missing_feature", "uses_", "milestone_", "csm[", "region[", "segment[", "vga/", ".py", "[usage]", "[analysis]",
    "core_features", "SEVERITY", "health_below_threshold", "usage_drop", "arr_at_stake", "q_value", "churn_rate",
    "integration_connected", "publish_report", "map_fields", "data_import", "admin_settings",
    "Benjamini-Hochberg q value is below alpha", "Greenwood", "log(-log)", "-0.0", "+0.0",
]
#: Slips of number formatting: a singular count with a plural noun.
SLIPS = re.compile(r"(?<![\d.,])1 (?:days|points|accounts|tickets|decisions|quarters)\b")


def _open(browser, path, width, height):
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.goto(path.resolve().as_uri(), wait_until="load")
    page.wait_for_timeout(100)
    return page


def _screen(browser, run, width, height):
    """The report at one window size, its first screen kept as a screenshot."""
    page = _open(browser, run / "report.html", width, height)
    OUTPUT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=OUTPUT / f"report-first-screen-{width}.png")
    return page


@pytest.fixture(scope="module")
def wide(browser, sample_run):
    page = _screen(browser, sample_run, WIDE, TALL)
    yield page
    page.context.close()


@pytest.fixture(scope="module")
def narrow(browser, sample_run):
    page = _screen(browser, sample_run, NARROW, NARROW_TALL)
    yield page
    page.context.close()


def _boxes(page, selector):
    return page.eval_on_selector_all(selector, """els => els.map(e => {
        const r = e.getBoundingClientRect(); return {top: r.top, bottom: r.bottom, text: e.innerText}; })""")


@pytest.mark.slow
def test_first_screen_holds_figures_actions_and_bridge(wide, sample_run):
    summary = json.loads((sample_run / "results" / "summary.json").read_text())
    cards = _boxes(wide, ".vga-first .vga-kpi")
    actions = _boxes(wide, ".vga-first li.vga-action")
    bridge = _boxes(wide, ".vga-first img")
    assert len(cards) == 3 and len(actions) == 3 and len(bridge) == 1
    for box in cards + actions + bridge:
        assert 0 <= box["top"] and box["bottom"] <= TALL, f"below the fold at {WIDE}x{TALL}: {box['text'][:60]!r}"
    values = [c["text"].split("\n")[0] for c in cards]
    assert values == [f"{100 * summary[k]:.1f}%" for k in ("nrr", "grr", "logo_churn_rate")]
    for action, win in zip(actions, summary["do_first"]):
        assert f"Owner: {win['owner']}" in action["text"] and "Money at risk now:" in action["text"]
    assert wide.evaluate("() => document.querySelector('.vga-first img').naturalWidth") > 0


@pytest.mark.slow
def test_height_budget(wide):
    height = wide.evaluate("() => document.scrollingElement.scrollHeight")
    assert height <= SCREENS * TALL, f"{height} px is {height / TALL:.1f} screens at {WIDE}x{TALL}"
    heights = wide.evaluate("() => Array.from(document.querySelectorAll('section.vga-section[id^=\"section-\"]'))"
                            ".map(s => s.getBoundingClientRect().height)")
    assert heights[0] <= 2 * TALL, f"the executive summary takes {heights[0] / TALL:.1f} screens"
    # Every other section opens with its findings, a screen at most, its detail folded below.
    assert len(heights) == 11 and max(heights[1:]) <= TALL, [round(h) for h in heights]
    # Detail is folded: every section but the summary holds a closed <details>.
    closed = wide.evaluate("() => Array.from(document.querySelectorAll('section.vga-section'))"
                           ".filter(s => s.querySelector('details.vga-detail:not([open])')).length")
    assert closed >= 10


@pytest.mark.slow
def test_nothing_scrolls_sideways_at_390(narrow):
    width = narrow.evaluate("() => document.scrollingElement.scrollWidth")
    assert width <= NARROW, f"the page is {width} px wide in a {NARROW} px window"
    first = _boxes(narrow, ".vga-first .vga-kpi")[0]
    assert first["bottom"] <= NARROW_TALL, "the first figure is below the fold on a phone"
    assert png_size(OUTPUT / "report-first-screen-390.png") == (NARROW, NARROW_TALL)
    assert png_size(OUTPUT / "report-first-screen-1440.png") == (WIDE, TALL)


@pytest.mark.slow
def test_every_glossary_link_has_its_entry(wide):
    from vga.run.report import GLOSSARY

    links = wide.evaluate("() => Array.from(document.querySelectorAll('a[href^=\"#glossary-\"]'))"
                          ".map(a => a.getAttribute('href').slice(1))")
    entries = wide.evaluate("() => Array.from(document.querySelectorAll('dl.vga-glossary dt')).map(d => d.id)")
    assert set(entries) == {f"glossary-{slug}" for slug, *_ in GLOSSARY}
    assert links and set(links) <= set(entries), f"links to no entry: {sorted(set(links) - set(entries))}"
    for target in set(links):
        assert wide.evaluate(f"() => document.getElementById({target!r}) !== null")
    unlinked = set(entries) - set(links)
    assert len(unlinked) <= len(entries) // 3, f"glossary entries never linked from the report: {sorted(unlinked)}"


@pytest.mark.slow
def test_no_raw_identifier_reaches_the_page(wide):
    text = wide.evaluate("() => document.body.textContent")
    found = [code for code in RAW_CODES if code in text]
    contexts = {code: text[max(0, text.index(code) - 60):text.index(code) + 40] for code in found}
    assert not found, "raw codes on the page: " + "; ".join(f"{c!r} in …{contexts[c]}…" for c in found)
    assert not SLIPS.search(text), f"a count slip: {SLIPS.search(text).group(0)!r}"
    # What a reader sees before unfolding anything holds no code at all (a
    # results file's name aside): words with underscores are codes.
    visible = wide.inner_text("body")
    codes = {c for c in re.findall(r"\b[A-Za-z]+_\w+\b(?!\.(?:csv|xlsx|json))", visible)}
    assert not codes, f"codes in view: {sorted(codes)}"
    assert not re.search(r"\b\d+\.\d+e[-+]\d+\b", text), "a number in scientific notation"


@pytest.mark.slow
def test_the_executive_summary_prints_on_two_a4_pages(browser, sample_run):
    """The print stylesheet: folded detail is left out, each section starts a
    page; the executive summary alone takes at most two A4 pages."""
    page = _open(browser, sample_run / "report.html", WIDE, TALL)
    whole = page.pdf(format="A4")
    page.add_style_tag(content="@media print{section.vga-section:not(#section-1),h2.vga-appendix-head,#glossary,footer{display:none}}")
    summary = page.pdf(format="A4")
    page.context.close()
    pages = lambda pdf: len(re.findall(rb"/Type\s*/Page[^s]", pdf))  # noqa: E731
    assert 1 <= pages(summary) <= 2, f"the executive summary prints on {pages(summary)} pages"
    assert pages(whole) <= 2 * SCREENS, f"the whole report prints on {pages(whole)} pages"


@pytest.mark.slow
@pytest.mark.parametrize("width, height", [(WIDE, TALL), (NARROW, NARROW_TALL)])
def test_navigation_stays_on_screen(browser, sample_run, width, height):
    page = _open(browser, sample_run / "report.html", width, height)
    page.evaluate("() => window.scrollTo(0, document.scrollingElement.scrollHeight / 2)")
    page.wait_for_timeout(50)
    box = page.evaluate("() => { const r = document.querySelector('nav.vga-toc').getBoundingClientRect();"
                        " return {top: r.top, bottom: r.bottom}; }")
    links = page.evaluate("() => document.querySelectorAll('nav.vga-toc a').length")
    page.context.close()
    assert abs(box["top"]) <= 1 and box["bottom"] <= height / 6, f"the navigation is not on screen: {box}"
    assert links == 13  # the executive summary, ten steps, the statistics behind them, the glossary


@pytest.mark.slow
def test_the_sample_prints_as_a_deck_of_at_most_12_a4_pages_with_the_summary_on_page_1(browser, sample_run, tmp_path):
    """``vga run --pdf``'s printer (vga.run.pdf) on the sample's report: at
    most 12 A4 pages; the first screen (figures, Do first, bridge) ends on
    page 1; each section of the story starts a page, the appendix and the
    glossary run on."""
    from tests.test_browser import CHROMIUM
    from vga.run.pdf import print_pdf

    pages = print_pdf(sample_run / "report.html", tmp_path / "report.pdf", str(CHROMIUM))
    OUTPUT.mkdir(parents=True, exist_ok=True)
    (OUTPUT / "report.pdf").write_bytes((tmp_path / "report.pdf").read_bytes())
    assert 3 <= pages <= 12, f"the sample's report prints on {pages} pages"
    # A4 less the 14 mm margins, in CSS pixels (96 per inch): 182 x 269 mm.
    width, height = round(182 / 25.4 * 96), round(269 / 25.4 * 96)
    page = _open(browser, sample_run / "report.html", width, height)
    page.emulate_media(media="print")
    # page 1 as printed (A4 less its margins), kept beside the PDF for the record
    page.screenshot(path=OUTPUT / "report-print-page-1.png", clip={"x": 0, "y": 0, "width": width, "height": height})
    layout = page.evaluate("""() => {
        const first = document.querySelector('.vga-first').getBoundingClientRect();
        const breaks = [...document.querySelectorAll('section.vga-section:not(#glossary)')].map(s => [
            s.classList.contains('vga-appendix'), getComputedStyle(s).breakAfter]);
        return {bottom: first.bottom + window.scrollY, breaks,
                appendix: getComputedStyle(document.querySelector('h2.vga-appendix-head')).breakBefore};
    }""")
    page.context.close()
    assert layout["bottom"] <= height, f"the first screen ends {layout['bottom'] - height:.0f} px past page 1"
    story = [b for appendix, b in layout["breaks"] if not appendix]
    assert story and set(story) == {"page"} and layout["appendix"] == "page"
    assert {b for appendix, b in layout["breaks"] if appendix} == {"auto"}


def test_pdf_without_a_browser_is_refused_naming_what_works(tmp_path, monkeypatch):
    from vga.errors import UsageError
    from vga.run.pdf import find_browser
    from vga.run.runner import run_period

    monkeypatch.setenv("VGA_CHROMIUM", str(tmp_path / "no-such-browser"))
    with pytest.raises(UsageError, match=r"VGA_CHROMIUM=.*is not an executable file.*apt-get install chromium"):
        find_browser()
    monkeypatch.delenv("VGA_CHROMIUM")
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(UsageError, match=r"--pdf prints the report with Chromium or Chrome.*File > Print"):
        run_period(tmp_path / "no-data", "2026Q3", out=tmp_path / "reports", pdf=True, quiet=True)
    assert not (tmp_path / "reports").exists()  # refused before anything was written
