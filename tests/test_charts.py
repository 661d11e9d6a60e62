"""Charts that speak, on every screen (issue 34).

- Every colour set a chart draws together (``plots.COLOUR_SETS``) stays
  apart for readers with a colour-vision deficiency: each pair differs by at
  least :data:`MIN_DELTA_E` (CIEDE2000) under normal vision and under
  protanopia, deuteranopia and tritanopia simulated at full severity with
  the matrices of Machado, Oliveira and Fernandes (2009). The palette before
  the issue fails the same check (green beside red).
- Every chart draws its data in the palette's colours only.
- The key charts (trend, bridge, slice bars, quadrant) read on a phone: the
  smallest text is at least 10 CSS px when the image is shown 340 px wide
  (a 390 px screen less the page's margins), and ``blocks.figure`` says so
  on the ``<img>`` (``data-min-text-px-at-390``) for a browser to check.
- Titles are messages computed from the data, true on any data (nothing to
  draw, one point, ties), with no raw code in them.
"""

from __future__ import annotations

import base64
import re
import struct
from itertools import combinations

import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_hex, to_rgb

from vga.present import blocks, plots

# --------------------------------------------------------------------------
# Colour-vision deficiency: Machado et al. (2009), CIEDE2000

#: The smallest CIEDE2000 difference allowed between two colours a chart
#: draws together, with normal vision and under each simulated deficiency.
#: 10 is a difference seen at a glance between small marks (a line, a dot, a
#: thin bar); 1 to 2 is the threshold of seeing any difference between large
#: patches side by side. The Okabe-Ito palette's closest pair, green beside
#: a mid grey, sits at 10.2 under deuteranopia; the pre-issue palette's green
#: and red sat at 6.6.
MIN_DELTA_E = 10.0

#: Machado, Oliveira and Fernandes (2009), severity 1.0, on linear sRGB.
MACHADO = {
    "protanopia": np.array([[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216],
                            [-0.003882, -0.048116, 1.051998]]),
    "deuteranopia": np.array([[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413],
                              [-0.011820, 0.042940, 0.968881]]),
    "tritanopia": np.array([[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602],
                            [0.004733, 0.691367, 0.303900]]),
}
VISIONS = (None, *MACHADO)
_SRGB_TO_XYZ = np.array([[0.4124564, 0.3575761, 0.1804375], [0.2126729, 0.7151522, 0.0721750],
                         [0.0193339, 0.1191920, 0.9503041]])
_D65 = np.array([0.95047, 1.0, 1.08883])


def _linear(rgb):
    rgb = np.asarray(rgb, dtype=float)
    return np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)


def lab(color, vision=None) -> np.ndarray:
    """CIELAB (D65) of a colour as seen with ``vision`` (None: normal)."""
    linear = _linear(to_rgb(color))
    if vision is not None:
        linear = np.clip(MACHADO[vision] @ linear, 0, 1)
    xyz = _SRGB_TO_XYZ @ linear / _D65
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def ciede2000(lab1, lab2) -> float:
    """CIEDE2000 colour difference (Sharma, Wu and Dalal, 2005)."""
    (l1, a1, b1), (l2, a2, b2) = lab1, lab2
    c_mean = (np.hypot(a1, b1) + np.hypot(a2, b2)) / 2
    g = 0.5 * (1 - np.sqrt(c_mean ** 7 / (c_mean ** 7 + 25 ** 7)))
    a1p, a2p = (1 + g) * a1, (1 + g) * a2
    c1p, c2p = np.hypot(a1p, b1), np.hypot(a2p, b2)
    h1p, h2p = np.degrees(np.arctan2(b1, a1p)) % 360, np.degrees(np.arctan2(b2, a2p)) % 360
    dl, dc = l2 - l1, c2p - c1p
    dh = 0.0 if c1p * c2p == 0 else (h2p - h1p + 180) % 360 - 180
    dhh = 2 * np.sqrt(c1p * c2p) * np.sin(np.radians(dh / 2))
    l_mean, cp_mean = (l1 + l2) / 2, (c1p + c2p) / 2
    if c1p * c2p == 0:
        h_mean = h1p + h2p
    elif abs(h1p - h2p) <= 180:
        h_mean = (h1p + h2p) / 2
    else:
        h_mean = (h1p + h2p + 360) / 2 if h1p + h2p < 360 else (h1p + h2p - 360) / 2
    t = (1 - 0.17 * np.cos(np.radians(h_mean - 30)) + 0.24 * np.cos(np.radians(2 * h_mean))
         + 0.32 * np.cos(np.radians(3 * h_mean + 6)) - 0.20 * np.cos(np.radians(4 * h_mean - 63)))
    rotation = 30 * np.exp(-(((h_mean - 275) / 25) ** 2))
    rc = 2 * np.sqrt(cp_mean ** 7 / (cp_mean ** 7 + 25 ** 7))
    sl = 1 + 0.015 * (l_mean - 50) ** 2 / np.sqrt(20 + (l_mean - 50) ** 2)
    sc, sh = 1 + 0.045 * cp_mean, 1 + 0.015 * cp_mean * t
    rt = -np.sin(np.radians(2 * rotation)) * rc
    return float(np.sqrt((dl / sl) ** 2 + (dc / sc) ** 2 + (dhh / sh) ** 2 + rt * (dc / sc) * (dhh / sh)))


def too_close(colours) -> list[tuple[str, str, str, float]]:
    """Pairs of ``colours`` closer than MIN_DELTA_E for some reader."""
    found = []
    for first, second in combinations(dict.fromkeys(to_hex(c) for c in colours), 2):
        for vision in VISIONS:
            d = ciede2000(lab(first, vision), lab(second, vision))
            if d < MIN_DELTA_E:
                found.append((first, second, vision or "normal vision", round(d, 1)))
    return found


@pytest.mark.parametrize("pair, expected", [
    (((50.0, 2.6772, -79.7751), (50.0, 0.0, -82.7485)), 2.0425),  # Sharma et al. (2005), table 1, pairs 1 and 7
    (((50.0, 2.5, 0.0), (73.0, 25.0, -18.0)), 27.1492),
    (((50.0, 2.5, 0.0), (50.0, 3.2592, 0.3350)), 1.0),
    (((2.0776, 0.0795, -1.1350), (0.9033, -0.0636, -0.5514)), 0.9082),
])
def test_ciede2000_gives_the_published_differences(pair, expected):
    assert ciede2000(*pair) == pytest.approx(expected, abs=1e-4)


def test_the_simulations_confuse_what_they_should():
    """Deuteranopia folds red and green together; normal vision does not."""
    red, green = "#c62828", "#2e7d32"
    assert ciede2000(lab(red), lab(green)) > 40
    assert ciede2000(lab(red, "deuteranopia"), lab(green, "deuteranopia")) < MIN_DELTA_E
    assert ciede2000(lab("#0000ff", "tritanopia"), lab("#00ffff", "tritanopia")) < ciede2000(lab("#0000ff"),
                                                                                               lab("#00ffff"))


@pytest.mark.parametrize("name", list(plots.COLOUR_SETS))
def test_every_colour_set_stays_apart_for_every_reader(name):
    assert not too_close(plots.COLOUR_SETS[name]), (name, too_close(plots.COLOUR_SETS[name]))


#: The colours drawn together before issue 34 (vga/present/plots.py and the
#: presenters at the commit before it): the check must catch them.
OLD_SETS = {
    "quadrants": ("#2e7d32", "#ef6c00", "#1565c0", "#c62828", "#9e9e9e"),
    "ARR bridge": ("#486581", "#2e7d32", "#ef6c00", "#c62828", "#102a43", "#2680c2"),
    "churned against renewed": ("#2e7d32", "#c62828"),
    "outcomes": ("#1565c0", "#2e7d32", "#ef6c00", "#c62828"),
    "workstreams": ("#2e7d32", "#1565c0", "#ef6c00", "#c62828", "#9e9e9e"),
    "interventions": ("#1565c0", "#2e7d32", "#c62828", "#9e9e9e", "#cfd8dc"),
}


def test_the_palette_before_the_issue_fails_the_check():
    failing = {name for name, colours in OLD_SETS.items() if too_close(colours)}
    assert failing == set(OLD_SETS), set(OLD_SETS) - failing
    # Green beside red, under deuteranopia: the pair the issue is about.
    assert ("#2e7d32", "#c62828", "deuteranopia") in {t[:3] for t in too_close(OLD_SETS["quadrants"])}


def test_one_palette_names_every_chart_colour():
    for name, colours in plots.COLOUR_SETS.items():
        assert {to_hex(c) for c in colours} <= {to_hex(c) for c in plots.PALETTE}, name
    for mapping in (plots.QUADRANT_COLORS, plots.BRIDGE_COLORS, plots.OUTCOME_COLORS, plots.WORKSTREAM_COLORS,
                    plots.INTERVENTION_COLORS, plots.SEVERITY_COLORS):
        assert {to_hex(c) for c in mapping.values()} <= {to_hex(c) for c in plots.PALETTE}


# --------------------------------------------------------------------------
# Frames to draw (the shapes of the results files)


def trend_frame(n: int = 5) -> pd.DataFrame:
    days = pd.date_range("2025-09-30", periods=n, freq="QE")
    return pd.DataFrame({"as_of": days.strftime("%Y-%m-%d"), "cohort_accounts": 1000,
                         "nrr": np.linspace(0.818, 0.851, n), "grr": np.linspace(0.783, 0.813, n),
                         "logo_churn_rate": np.linspace(0.189, 0.181, n)})


BRIDGE = {"start": 40_100_000.0, "expanded": 2_000_000.0, "contracted": 350_000.0, "churned": 6_200_000.0,
          "end": 35_550_000.0, "new": 4_000_000.0, "total": 39_550_000.0}


def slices_frame() -> pd.DataFrame:
    rows = [("region", "LATAM", 0.302, 0.167, True), ("region", "EMEA", 0.173, 0.19, False),
            ("region", "NA", 0.175, 0.19, False), ("channel_partner", "Summit Channel", 0.157, 0.17, False),
            ("channel_partner", "Cobalt Partners", 0.23, 0.15, False), ("csm", "Skyler Lind", 0.252, 0.17, False)]
    frame = pd.DataFrame(rows, columns=["dimension", "value", "churn_rate", "known_rest_churn_rate", "known_flagged"])
    return frame.assign(tested=True, flagged=frame["known_flagged"], accounts=200, churned=40, rest_accounts=800,
                        rest_churned=150, rest_churn_rate=frame["known_rest_churn_rate"])


def quadrant_frame(n: int = 200, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    usage, health = rng.uniform(0, 100, n), rng.uniform(0, 100, n)
    quadrant = np.select([(usage >= 50) & (health >= 50), (usage >= 50), (health >= 50)],
                         ["Champions", "Frustrated Power Users", "Relationship-Dependent"], "Churn Risk")
    return pd.DataFrame({"account_id": [f"a{i}" for i in range(n)], "arr": rng.uniform(1e4, 3e5, n),
                         "usage_score": usage, "health_score": health, "quadrant": quadrant})


def _draw_trend():
    fig, ax = plots.new_figure(7.5, 2.3)  # the executive summary's call
    plots.retention_trend(trend_frame(), ax)
    return fig


def _draw_bridge():
    fig, ax = plots.new_figure(5.6, 2.9)  # the executive summary's call
    plots.arr_bridge(BRIDGE, ax)
    return fig


def _draw_slices():
    frame = slices_frame()
    fig, ax = plots.new_figure(plots.WIDTH, plots.slice_height(len(frame), frame["dimension"].nunique()))
    plots.slice_churn_bars(frame, 0.181, ax=ax)
    return fig


def _draw_scatter():
    fig, ax = plots.new_figure(plots.WIDTH, 4.4)
    plots.quadrant_scatter(quadrant_frame(), ax=ax)
    return fig


def _draw_quadrant_bars():
    fig, ax = plots.new_figure(plots.WIDTH, 2.7)
    plots.quadrant_arr_bars(quadrant_frame(), ax=ax)
    return fig


KEY_CHARTS = {"retention trend": _draw_trend, "ARR bridge": _draw_bridge, "slice bars": _draw_slices,
              "quadrant scatter": _draw_scatter, "quadrant ARR bars": _draw_quadrant_bars}


def _other_charts():
    """The other charts of plots.py, each on a frame of its results file's shape."""
    comparison = pd.DataFrame({"lead_days": [90, 60, 30] * 2, "signal": ["health_score"] * 3 + ["tickets"] * 3,
                               "first_value": [52.3, 52.2, 52.9, 3.1, 3.0, 3.3],
                               "second_value": [60.2, 60.3, 60.7, 2.5, 2.5, 2.4],
                               "ci_lower": [-10.0, -10.0, -10.4, 0.4, 0.4, 0.6], "ci_upper": [-5.0] * 3 + [1.0] * 3,
                               "flagged": True})
    warnings = pd.DataFrame({"signal": ["usage_drop", "health_red"], "signal_name": ["usage drop", "health fell to red"],
                             "recall": [0.54, 0.08], "recall_ci_lower": [0.48, 0.05], "recall_ci_upper": [0.59, 0.12],
                             "false_alarm_rate": [0.25, 0.05], "false_alarm_ci_lower": [0.23, 0.04],
                             "false_alarm_ci_upper": [0.28, 0.06]})
    per_decision = pd.DataFrame({"outcome": ["churned"] * 4, "usage_drop": [30.0, 54, 120, None],
                                 "health_red": [150.0, None, 170, 119]})
    curves = pd.DataFrame({"dimension": ["region"] * 4, "group": ["NA", "NA", "LATAM", "LATAM"],
                           "time_days": [365.0, 730, 365, 730], "survival": [0.95, 0.9, 0.8, 0.6],
                           "ci_lower": [0.93, 0.87, 0.74, 0.52], "ci_upper": [0.97, 0.93, 0.86, 0.68]})
    at_risk = {"times": [0, 365, 730], "rows": [{"dimension": "region", "group": "NA", "counts": [500, 400, 300]},
                                                {"dimension": "region", "group": "LATAM", "counts": [150, 100, 60]}]}
    ratios = pd.DataFrame({"term": ["region LATAM", "missed integration connected"], "hazard_ratio": [1.7, 0.8],
                           "ci_lower": [1.3, 0.6], "ci_upper": [2.2, 1.1], "q_value": [0.001, 0.4]})
    terms = pd.DataFrame({"model": ["renewal", "expansion"], "term_name": ["health score", "uses automations"],
                          "odds_ratio": [1.2, 7.0], "ci_lower": [1.1, 5.0], "ci_upper": [1.3, 10.0],
                          "q_value": [0.001, 0.001]})
    adoption = pd.DataFrame([(lead, o, "core_adoption", v - lead / 1000, v - 0.05, v + 0.05, o == "downgraded")
                             for lead in (90, 60, 30) for o, v in (("renewed", 0.64), ("expanded", 0.66),
                                                                    ("downgraded", 0.6), ("churned", 0.56))],
                            columns=["lead_days", "outcome", "measure", "value", "ci_lower", "ci_upper", "small"])
    usage = pd.DataFrame({"month": pd.date_range("2025-01-01", periods=12, freq="MS"),
                          "active_accounts": range(1000, 1012), "median_events_per_session": 6.0,
                          "median_core_adoption": 0.8})
    shares = pd.DataFrame({"difference": [15.3, -2.0], "ci_lower": [9.0, -6.0], "ci_upper": [21.0, 2.0],
                           "flagged": [True, False]})

    def one(draw, height=3.4):
        fig, ax = plots.new_figure(plots.WIDTH, height)
        draw(ax)
        return fig

    yield "signal leads", one(lambda ax: plots.signal_leads(comparison, ax, {"health_score": "health score"}))
    yield "warning rates", one(lambda ax: plots.warning_rates(warnings, ax))
    yield "warning leads", one(lambda ax: plots.warning_leads(per_decision, {"usage_drop": "usage drop",
                                                                             "health_red": "health fell to red"}, ax))
    yield "survival", one(lambda ax: plots.survival_curves(curves, at_risk, "region", ax), 4.2)
    yield "hazard ratios", one(lambda ax: plots.hazard_ratios(ratios, ax))
    yield "odds ratios", one(lambda ax: plots.odds_ratios(terms, ax))
    yield "calibration", one(lambda ax: plots.calibration_plot(
        [{"predicted": 0.6, "observed": 0.65, "n": 40}, {"predicted": 0.8, "observed": 0.78, "n": 60}], ax))
    yield "adoption", one(lambda ax: plots.adoption_lines(adoption, ax))
    yield "comparison bars", one(lambda ax: plots.comparison_bars(shares, pd.Series(["use of exports", "trained"]), ax,
                                                                  "difference (points)", "Use of exports is 15.3 points more common"))
    yield "data quality", one(lambda ax: plots.data_quality_bars(
        {"accounts": {"rows_read": 1505, "rows_quarantined": 5}, "usage_events": {"rows_read": 9000,
                                                                                  "rows_quarantined": 1}}, ax))
    figs = [plots.new_figure(plots.WIDTH, 2.6) for _ in range(3)]
    plots.usage_trend(usage, axes=[ax for _, ax in figs])
    for i, (fig, _) in enumerate(figs):
        yield f"usage trend {i}", fig


# --------------------------------------------------------------------------
# Drawn in the palette


def _drawn_colours(fig) -> set[str]:
    """The colours a figure draws its data in (lines, bars, dots, bands),
    without their transparency; text and the axes' frame left out."""
    found = set()
    for ax in fig.axes:
        for line in ax.lines:
            if line.get_visible() and len(line.get_xdata()):
                found.add(to_hex(line.get_color()))
                if line.get_marker() not in (None, "None", "", " "):
                    found.add(to_hex(line.get_markerfacecolor()))
        for patch in ax.patches:
            if patch.get_visible() and patch.get_facecolor()[3] > 0:
                found.add(to_hex(patch.get_facecolor()))
        for collection in ax.collections:
            for rgba in list(collection.get_facecolors()) + list(collection.get_edgecolors()):
                if rgba[3] > 0:
                    found.add(to_hex(rgba))
    return found - {"#ffffff"}


@pytest.mark.parametrize("name", list(KEY_CHARTS))
def test_the_key_charts_draw_in_the_palette(name):
    drawn = _drawn_colours(KEY_CHARTS[name]())
    assert drawn and drawn <= {to_hex(c) for c in plots.PALETTE}, drawn - {to_hex(c) for c in plots.PALETTE}
    assert not too_close(drawn), too_close(drawn)


def test_every_other_chart_draws_in_the_palette():
    palette = {to_hex(c) for c in plots.PALETTE}
    for name, fig in _other_charts():
        drawn = _drawn_colours(fig)
        assert drawn <= palette, (name, drawn - palette)
        assert not too_close(drawn), (name, too_close(drawn))


# --------------------------------------------------------------------------
# Readable on a phone


def _png(fig) -> tuple[int, str]:
    """The figure block of ``fig`` and the width its image is shown at on a
    wide screen (CSS px: the image's pixels over its density)."""
    html = blocks.figure(fig, "a chart").body
    data = re.search(r'src="data:image/png;base64,([^"]+)"', html).group(1)
    pixels = struct.unpack(">II", base64.b64decode(data)[16:24])[0]
    width = int(re.search(r'width="(\d+)"', html).group(1))
    assert width == round(pixels / plots.DENSITY)
    return width, html


@pytest.mark.parametrize("name", list(KEY_CHARTS))
def test_the_key_charts_read_at_390_px(name):
    """At 340 px wide (a 390 px phone less the page's margins), the smallest
    text of each key chart is at least 10 CSS px high, as the figure block
    says on the image."""
    fig = KEY_CHARTS[name]()
    width, html = _png(fig)
    smallest = plots.smallest_text(fig)
    shown = min(340, width)
    px = smallest / 72 * plots.DPI * shown / width
    assert px >= 10, f"{name}: {smallest} pt text in a {width} px image reads {px:.1f} px at 340 px"
    said = float(re.search(r'data-min-text-px-at-390="([\d.]+)"', html).group(1))
    assert said == pytest.approx(px, abs=0.05)
    assert f'width="{width}"' in html


def test_the_other_charts_read_at_390_px():
    for name, fig in _other_charts():
        width, html = _png(fig)
        said = float(re.search(r'data-min-text-px-at-390="([\d.]+)"', html).group(1))
        assert said >= 10, (name, width, said)


def test_text_px_is_the_text_shown_at_a_width():
    assert plots.text_px(10.5, 528, dpi=110) == pytest.approx(10.5 / 72 * 110 * 340 / 528)
    assert plots.text_px(10, 300, dpi=110) == pytest.approx(10 / 72 * 110)  # narrower than the phone: not enlarged
    assert plots.text_px(8, 1000) < 10  # the old charts' small print on a wide image


def test_small_multiples_sit_side_by_side_and_wrap_on_a_phone():
    figs = [KEY_CHARTS["quadrant scatter"](), KEY_CHARTS["quadrant ARR bars"]()]
    html = blocks.figure(figs, ["the scatter", "the bars"], "One caption.").body
    assert html.count("<img") == 2 and "flex-wrap:wrap" in html and html.count("<figcaption>") == 1
    assert 'alt="the scatter"' in html and 'alt="the bars"' in html
    with pytest.raises(ValueError):
        blocks.figure(figs, "one alt for two figures")


def test_nothing_the_figure_block_writes_loads_from_the_network():
    from vga.run.report import network_references

    figs = [KEY_CHARTS["ARR bridge"](), KEY_CHARTS["slice bars"]()]
    assert network_references(blocks.figure(figs, ["a", "b"], "c").body) == []
    assert network_references(blocks.figure(KEY_CHARTS["retention trend"](), "t").body) == []


@pytest.mark.slow
def test_every_chart_of_the_sample_report_reads_at_390_px(sample_run):
    page = (sample_run / "report.html").read_text()
    images = re.findall(r"<img\b[^>]*>", page)
    assert len(images) >= 20
    for img in images:
        found = re.search(r'data-min-text-px-at-390="([\d.]+)"', img)
        alt = re.search(r'alt="([^"]*)"', img)
        assert found, f"no text size on {alt.group(1)[:60] if alt else img[:60]!r}"
        assert float(found.group(1)) >= 10, (alt.group(1)[:60], found.group(1))


# --------------------------------------------------------------------------
# Titles that say the message, true on any data


def _texts(fig) -> list[str]:
    from matplotlib.text import Text

    return [t.get_text() for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]


def _title(fig) -> str:
    text = fig._suptitle.get_text() if fig._suptitle is not None else fig.axes[0].get_title(loc="left")
    return " ".join(text.split())


def test_the_trend_is_three_panels_with_labels_and_a_100_percent_line():
    fig = _draw_trend()
    panels = fig.axes
    assert len(panels) == 3
    assert _title(fig) == "NRR rose 3.3 points to 85.1% over the year"
    texts = _texts(fig)
    assert {"85.1%", "81.3%", "18.1%"} <= set(texts)  # the last point of each measure, labelled
    assert texts.count("100%") == 2  # NRR and GRR, not logo churn
    dashed = [[ln for ln in ax.lines if ln.get_linestyle() not in ("-", "solid")] for ax in panels]
    assert [len(d) for d in dashed] == [1, 1, 0]
    assert all(ln.get_ydata()[0] == 100 for d in dashed for ln in d)
    # Each panel its own range: NRR's 3.3 points take a visible part of its height.
    low, high = panels[0].get_ylim()
    assert 3.3 / (high - low) > 0.1


@pytest.mark.parametrize("n, expected", [
    (0, "No quarter has an NRR to show"),
    (1, "NRR 81.8% at 2025Q3: one quarter, no trend yet"),
    (2, "NRR rose 2.0 points to 83.8% since 2025Q3"),
    (5, "NRR rose 3.3 points to 85.1% over the year"),
])
def test_the_trend_says_what_few_quarters_allow(n, expected):
    frame = trend_frame(n) if n != 2 else trend_frame(3).iloc[[0, 2]].assign(nrr=[0.818, 0.838])
    fig, ax = plots.new_figure(7.5, 2.3)
    plots.retention_trend(frame, ax)
    assert _title(fig) == expected


def test_the_trend_says_a_fall_and_no_change():
    frame = trend_frame(5).assign(nrr=[0.9, 0.9, 0.9, 0.9, 0.88])
    assert plots.trend_message(frame) == "NRR fell 2.0 points to 88.0% over the year"
    assert plots.trend_message(frame.assign(nrr=0.9)) == "NRR held at 90.0% over the year"


def test_the_bridge_says_its_message_in_one_unit():
    fig = _draw_bridge()
    assert _title(fig) == ("ARR of last year's customers fell from 40.1M to 35.5M: churn took 6.2M; new customers "
                           "brought all ARR to 39.5M")
    amounts = [t for t in _texts(fig) if re.fullmatch(r"[+\u2212]?\d[\d,.]*[MkB]?", t)]
    assert len(amounts) == 7
    assert {a[-1] for a in amounts} == {"M"} and {len(a[:-1].split(".")[1]) for a in amounts} == {1}


def test_a_small_contraction_is_visible_and_labelled_exactly():
    fig = _draw_bridge()
    ax = fig.axes[0]
    bars = [p for p in ax.patches if p.get_width() > 0]
    top = max(p.get_x() + p.get_width() for p in bars)
    contraction = bars[2]
    assert contraction.get_width() >= plots.MIN_STEP * top * 0.999  # drawn at the minimum length
    unit = plots.money_unit([BRIDGE["start"]])
    assert plots.money_in(-BRIDGE["contracted"], unit, sign=True) in _texts(fig)  # labelled with its amount


def test_the_bridge_unit_follows_the_largest_bar():
    small = {k: v / 1000 for k, v in BRIDGE.items()}
    fig, ax = plots.new_figure()
    plots.arr_bridge(small, ax)
    assert all(t.endswith("k") for t in _texts(fig) if re.fullmatch(r"[+\u2212]?\d[\d,.]*k?", t))
    grown = dict(BRIDGE, expanded=9_000_000.0, end=42_550_000.0, total=46_550_000.0)
    assert plots.bridge_message(grown).startswith("ARR of last year's customers rose from 40.1M to 42.5M: expansion "
                                                  "added 9.0M")


def test_the_slice_chart_names_dimensions_in_words_and_its_message():
    fig = _draw_slices()
    ax = fig.axes[0]
    texts = " ".join([t.get_text() for t in ax.get_yticklabels()] + [t.get_text() for t in ax.texts])
    assert "channel_partner" not in texts and "csm" not in texts and ":" not in texts
    assert "Channel partner" in texts and "CSM" in texts
    assert _title(fig) == "Region LATAM churns most: 30.2% against 16.7% for the other regions"


def test_the_slice_message_is_true_without_a_flag_with_one_slice_and_with_ties():
    frame = slices_frame()
    calm = frame.assign(known_flagged=False, flagged=False)
    assert plots.slice_message(calm, 0.181) == ("No slice churns clearly apart from the rest of its dimension: 15.7% "
                                                "to 30.2%, 18.1% overall")
    assert plots.slice_message(frame.iloc[:1]) == "Only region LATAM is large enough to test: 30.2% churn"
    tie = frame.assign(churn_rate=frame["churn_rate"].where(frame["value"] != "Skyler Lind", 0.302))
    assert plots.slice_message(tie).startswith("Region LATAM churns more:")  # not "most": CSM Skyler Lind ties
    assert plots.slice_message(frame.iloc[:0]) == "No slice is large enough to test"
    fig, ax = plots.new_figure()
    plots.slice_churn_bars(frame.assign(tested=False), 0.18, ax=ax)
    assert _title(fig) == "No slice is large enough to test"


def test_the_quadrant_titles_hold_on_ties_and_empty_frames():
    frame = quadrant_frame()
    assert _title(_draw_quadrant_bars()).split(" hold")[0] in {"Champions", "Frustrated Power Users",
                                                               "Relationship-Dependent", "Churn Risk"}
    even = frame.assign(arr=1000.0, quadrant=["Champions", "Churn Risk"] * (len(frame) // 2))
    fig, ax = plots.new_figure()
    plots.quadrant_arr_bars(even, ax=ax)
    assert _title(fig) == "Champions and Churn Risk hold the most ARR: 100k each of 200k (50.0% each)"
    nothing = frame.assign(usage_score=np.nan)
    assert plots.quadrant_message(nothing) == "No active account has both a usage and a health score"
    none_frustrated = frame[frame["quadrant"] != "Frustrated Power Users"]
    assert plots.quadrant_message(none_frustrated).startswith("None of the")


def test_every_chart_has_a_message_not_a_topic():
    topics = {"Churn by slice", "ARR by quadrant", "Data quality by table", "Milestone completion",
              "NPS per quarter", "CSAT per quarter"}
    for name, fig in [*((n, draw()) for n, draw in KEY_CHARTS.items()), *_other_charts()]:
        titles = [" ".join(t.split()) for t in
                  ([fig._suptitle.get_text()] if fig._suptitle is not None else [])
                  + [ax.get_title(loc="left") for ax in fig.axes]]
        titles = [t for t in titles if t]
        assert titles, name
        assert not set(titles) & topics, (name, titles)
        assert all(len(t.split()) >= 4 for t in titles[:1]), (name, titles)  # a sentence, not a label


def test_money_unit_and_amounts():
    assert plots.money_unit([877_600, 81_423_400]) == (1e6, "M", 1)
    assert plots.money_unit([12_000, 81_423_400]) == (1e6, "M", 2)
    assert plots.money_unit([900, 450_000]) == (1e3, "k", 0)
    unit = plots.money_unit([877_600, 81_423_400])
    assert plots.money_in(-877_600, unit, sign=True) == "\u22120.9M"
    assert plots.money_in(3_137_700, unit, sign=True) == "+3.1M"
    assert plots.money_in(0, unit, sign=True) == "0.0M"


def test_the_short_slice_chart_keeps_the_dimensions_that_matter_and_the_same_message():
    frame = slices_frame()
    assert plots.key_dimensions(frame) == ["region"]
    fig, ax = plots.new_figure()
    plots.slice_churn_bars(frame, 0.181, ax=ax, dimensions=plots.key_dimensions(frame))
    labels = [t.get_text().strip() for t in ax.get_yticklabels()]
    assert labels == ["Region", "LATAM", "NA", "EMEA"]
    assert _title(fig) == _title(_draw_slices())
    calm = frame.assign(known_flagged=False)
    assert plots.key_dimensions(calm) == ["region"]  # the slice that churns most
