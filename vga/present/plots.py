"""Figures for the report. Each draws the frame it is given on an Axes and
returns it; none calls ``plt.show()`` or reads files.

Every chart says its message: its title is a sentence computed from what it
draws ("Region LATAM churns most: 30.2% against 16.7% for the other
regions"), never a topic label, and stays true on any data (nothing to
draw, one group, ties). Names from the data and codes from the
configuration are shown in words (:mod:`vga.words`): "channel partner
Summit Channel", never ``channel_partner: Summit Channel``.

One palette for every chart (:data:`PALETTE`, Okabe and Ito's colour-blind
safe colours, with two greys): categorical and semantic colours alike
(quadrants, the ARR bridge, statuses, severities) come from it, and every
set of colours drawn together (:data:`COLOUR_SETS`) stays apart under
protanopia, deuteranopia and tritanopia (``tests/test_charts.py``).

Charts are drawn for a phone first: at most :data:`WIDTH` inches wide with
text of at least :data:`TEXT_PT` points, so shown :data:`PHONE_PX` CSS
pixels wide (a 390 px screen less the page's margins) no text is smaller
than :data:`PHONE_TEXT_PX` px (:func:`text_px`); several panels are several
figures, side by side on a wide screen and one under the other on a phone
(:func:`vga.present.blocks.figure`). One unit per chart: an amount axis and
its labels share one unit (M or k), and two measures with different units
never share an axis.

Importing this module sets the charts' style once (``matplotlib.rcParams``:
text sizes, colours, no top or right frame) for every figure drawn after.

Names from the data (a segment, a CSM, a feature) are text, never
mathtext: with ``text.parse_math`` off, a ``$`` in a name is drawn as a
dollar sign, and a name such as ``Mid$\\fakecmd$Market`` cannot stop a chart.
An analyst who wants mathtext in a chart of their own passes
``parse_math=True`` to that text.
"""

from __future__ import annotations

import textwrap

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from .. import words
from ..analysis.quadrant import QUADRANTS

# --------------------------------------------------------------------------
# Readable on a phone

#: Size of the embedded images: CSS pixels per inch of a figure (CSS's own
#: inch: a chart's text in points reads at its size on a wide screen).
DPI = 96
#: Image pixels per CSS pixel: sharp on a phone's screen (2 to 3 device
#: pixels a CSS pixel), shown at DPI CSS pixels an inch.
DENSITY = 2
#: The width a chart is shown at on a 390 px wide phone: the screen less the
#: page's and the section's padding and borders (10 + 14 + 1 px each side).
PHONE_PX = 340
#: The smallest text a chart may show on that phone, in CSS pixels.
PHONE_TEXT_PX = 10.0
#: The widest figure, in inches, and the smallest text, in points: at
#: PHONE_PX wide, TEXT_PT points read 10.5 * 340 / (72 * 4.8) = 10.3 px.
WIDTH = 4.8
TEXT_PT = 10.5
#: A chart's message (its title).
TITLE_PT = 11.5

# --------------------------------------------------------------------------
# One palette

#: Okabe and Ito's colour-blind safe palette (Color Universal Design, 2008).
BLUE, ORANGE, GREEN, VERMILLION = "#0072B2", "#E69F00", "#009E73", "#D55E00"
SKY, PURPLE, YELLOW = "#56B4E9", "#CC79A7", "#F0E442"
#: Text, reference lines and totals; context (not flagged, no data).
INK, DARK_GREY, GREY = "#222222", "#555555", "#B0B0B0"
#: Categories without a meaning of their own, in this order (the yellow is
#: left out: it does not read as text or thin lines on white).
CATEGORICAL = (BLUE, ORANGE, GREEN, VERMILLION, SKY, PURPLE)
#: Every colour a chart may draw data in.
PALETTE = (*CATEGORICAL, YELLOW, INK, DARK_GREY, GREY)

QUADRANT_COLORS = {
    "Champions": GREEN,
    "Frustrated Power Users": ORANGE,
    "Relationship-Dependent": BLUE,
    "Churn Risk": VERMILLION,
    "Unscored": GREY,
}
BRIDGE_COLORS = {"start": DARK_GREY, "expanded": BLUE, "contracted": VERMILLION, "churned": VERMILLION,
                 "end": DARK_GREY, "new": BLUE, "total": DARK_GREY}
#: Decision outcomes (renewed and expanded are the good ones).
OUTCOME_COLORS = {"renewed": BLUE, "expanded": GREEN, "downgraded": ORANGE, "churned": VERMILLION}
#: Workstream statuses (Programme set-up).
WORKSTREAM_COLORS = {"done": GREEN, "on track": BLUE, "at risk": ORANGE, "late": VERMILLION, "not started": GREY}
#: Intervention statuses (MVP and intervention tracking).
INTERVENTION_COLORS = {"open": BLUE, "achieved": GREEN, "missed": VERMILLION, "dropped": DARK_GREY,
                       "not recorded": GREY}
#: Friction of a journey stage: the box's edge and figure; its fill is a tint (:func:`tint`).
SEVERITY_COLORS = {"high": VERMILLION, "medium": ORANGE, "low": GREEN, "unknown": GREY}

#: The colours each chart draws together (its data, and the reference
#: lines drawn among them): every pair must stay apart for every reader.
COLOUR_SETS = {
    "quadrants": tuple(QUADRANT_COLORS.values()),
    "ARR bridge": tuple(dict.fromkeys(BRIDGE_COLORS.values())) + (GREY,),
    "retention trend": (BLUE, INK, GREY),
    "categories (survival curves)": CATEGORICAL + (INK,),
    "outcomes (adoption)": tuple(OUTCOME_COLORS.values()),
    "churned against retained": (VERMILLION, BLUE, INK),
    "flagged against the rest": (VERMILLION, GREY, INK),
    "significant against the rest": (BLUE, GREY, INK),
    "churn and other interviews": (VERMILLION, BLUE),
    "workstreams": tuple(WORKSTREAM_COLORS.values()) + (INK,),
    "interventions": tuple(INTERVENTION_COLORS.values()),
    "journey severity": tuple(SEVERITY_COLORS.values()),
    "milestones": (BLUE, VERMILLION, GREY),
    "time to first value": (BLUE, VERMILLION),
    "target": (GREEN, ORANGE, INK),
}

matplotlib.rcParams.update({
    "text.parse_math": False,
    "font.size": TEXT_PT, "axes.titlesize": TEXT_PT, "axes.labelsize": TEXT_PT, "xtick.labelsize": TEXT_PT,
    "ytick.labelsize": TEXT_PT, "legend.fontsize": TEXT_PT, "legend.title_fontsize": TEXT_PT,
    "figure.titlesize": TITLE_PT, "figure.titleweight": "bold", "axes.titleweight": "bold",
    "axes.titlelocation": "left", "axes.spines.top": False, "axes.spines.right": False,
    "text.color": INK, "axes.labelcolor": INK, "xtick.color": INK, "ytick.color": INK, "axes.edgecolor": DARK_GREY,
    "legend.frameon": False, "axes.prop_cycle": matplotlib.cycler(color=CATEGORICAL),
})


def tint(color: str, share: float = 0.3) -> str:
    """``color`` mixed with white (``share`` of the colour): a fill behind text."""
    from matplotlib.colors import to_hex, to_rgb

    return to_hex([1 - share * (1 - c) for c in to_rgb(color)])


def text_px(points: float, image_px: float, shown_px: float = PHONE_PX, dpi: float = DPI) -> float:
    """The height in CSS pixels of text ``points`` high in an image
    ``image_px`` wide (drawn at ``dpi``), shown ``shown_px`` wide (never
    wider than it is: a small image is not enlarged)."""
    return points / 72 * dpi * min(shown_px, image_px) / image_px


def smallest_text(fig) -> float | None:
    """The smallest font size (points) of the text a drawn figure shows."""
    from matplotlib.text import Text

    sizes = [t.get_fontsize() for t in fig.findobj(Text)
             if t.get_visible() and t.get_text().strip() and t.get_alpha() != 0]
    return min(sizes) if sizes else None


def new_figure(width: float = WIDTH, height: float = 3.4, columns: int = 1, rows: int = 1):
    """A figure outside pyplot's state (nothing is shown by accident), laid
    out so that nothing leaves it, and its axes."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    axes = fig.subplots(rows, columns)
    return fig, axes


def _wrap(text: str, width_in: float, points: float = TITLE_PT, bold: bool = True) -> str:
    """``text`` broken into lines no wider than ``width_in`` inches, measured
    in the font it is drawn in."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextToPath

    font = FontProperties(size=points, weight="bold" if bold else "normal")
    measure = TextToPath()
    room = width_in * 72 * 0.97
    lines: list[str] = []
    for word in str(text).split():
        line = f"{lines[-1]} {word}" if lines else word
        if lines and measure.get_text_width_height_descent(line, font, ismath=False)[0] <= room:
            lines[-1] = line
        else:
            lines.append(word)
    return "\n".join(lines)


def say(ax, message: str):
    """The chart's message as its title: a sentence from the data, left
    aligned and wrapped. The figure's title when the axes are its only
    ones, else the panel's."""
    fig = ax.figure
    if len(fig.axes) == 1:
        fig.suptitle(_wrap(message, fig.get_figwidth() * 0.98), x=0.01, ha="left")
    else:
        width = fig.get_figwidth() * ax.get_position().width
        ax.set_title(_wrap(message, width, TEXT_PT), loc="left")
    return ax


def fit(fig):
    """Each axis label wrapped to the width of its plot once the figure is
    laid out (a long label under a narrow plot would widen the image and
    shrink all its text on a phone). :func:`vga.present.blocks.figure`
    calls it before saving."""
    fig.draw_without_rendering()
    for ax in fig.axes:
        box = ax.get_position()
        label = ax.xaxis.label
        text = " ".join(label.get_text().split())
        if text:
            label.set_text(_wrap(text, max(box.width * fig.get_figwidth(), 1.2), label.get_fontsize(), bold=False))
        text = " ".join(ax.get_title(loc="left").split())
        if text:  # a panel's message: from the plot's left edge to the figure's
            room = (0.99 - box.x0) * fig.get_figwidth()
            ax.set_title(_wrap(text, max(room, 1.2), TEXT_PT), loc="left")
    return fig


def plain_numbers(ax, which: str = "x", digits: int = 0):
    """Tick labels with thousands separators, never scientific notation (1e7)."""
    from matplotlib.ticker import FuncFormatter

    fmt = FuncFormatter(lambda v, _: f"{v:,.{digits}f}")
    for axis in ("x", "y") if which == "both" else (which,):
        getattr(ax, f"{axis}axis").set_major_formatter(fmt)
    return ax


def percent_axis(ax, which: str = "x", share: bool = False):
    """Tick labels in percent (values in percent, or shares when ``share``)."""
    from matplotlib.ticker import FuncFormatter

    scale = 100 if share else 1
    getattr(ax, f"{which}axis").set_major_formatter(FuncFormatter(lambda v, _: f"{v * scale:,.0f}%"))
    return ax


# --------------------------------------------------------------------------
# Amounts: one unit per chart

_UNITS = ((1e9, "B"), (1e6, "M"), (1e3, "k"))


def money_unit(values, digits: int | None = None) -> tuple[float, str, int]:
    """One unit for every amount of a chart, chosen from the largest: (size,
    suffix, decimals). Decimals: one for M and B, none for k and below,
    more where a non-zero amount would otherwise read 0."""
    shown = [abs(float(v)) for v in values if v is not None and v == v]
    top = max(shown, default=0.0)
    size, suffix = next(((s, u) for s, u in _UNITS if top >= s), (1.0, ""))
    if digits is None:
        digits = 1 if size >= 1e6 else 0
        small = [v for v in shown if v > 0]
        while small and digits < 3 and round(min(small) / size, digits) == 0:
            digits += 1
    return size, suffix, digits


def money_in(value, unit, sign: bool = False, currency: bool = False) -> str:
    """An amount in the chart's unit ("14.4M", "+3.1M" with ``sign``; with
    ``currency``, the report's currency code before it)."""
    from .blocks import CURRENCY

    size, suffix, digits = unit
    v = round(float(value) / size, digits) + 0.0
    text = f"{abs(v):,.{digits}f}{suffix}"
    code = f"{CURRENCY['code']} " if currency and CURRENCY["code"] else ""
    if sign and v != 0:
        return ("+" if v > 0 else "\u2212") + code + text
    return ("\u2212" if v < 0 else "") + code + text


def money_axis(ax, which: str = "x", unit=None):
    """Tick labels as amounts in one unit (``unit`` from :func:`money_unit`;
    by default the largest tick's): 0, 20M, 40M, never 500k beside 1M."""
    from matplotlib.ticker import FuncFormatter

    axis = getattr(ax, f"{which}axis")

    def compact(v, _):
        size, suffix, _digits = unit or money_unit([*axis.get_view_interval()])
        value = v / size
        return f"{value:,.{0 if abs(value - round(value)) < 1e-9 else 1}f}{suffix}" if v else "0"

    axis.set_major_formatter(FuncFormatter(compact))
    return ax


def _pct(value, digits: int = 1) -> str:
    from .blocks import pct

    return pct(value, digits)


def _points(now: float, before: float) -> float:
    """A change of a rate in points, rounded as the report says it."""
    return round(100 * (now - before), 1) + 0.0


def _quarter(day) -> str:
    day = pd.Timestamp(day)
    return f"{day.year}Q{(day.month - 1) // 3 + 1}" if day.is_quarter_end else day.date().isoformat()


def _plural_dimension(code: str) -> str:
    """'the other regions', or 'the other values of <dimension>' for a name
    the report has no plural for."""
    if code in words.DIMENSIONS:
        return f"the other {words.dimension(code)}s"
    return f"the other {words.dimension(code)} values"


def _upper(text: str) -> str:
    return text[:1].upper() + text[1:]


def leaders(values: dict, shown, highest: bool = True) -> list:
    """The names whose value is the highest (or lowest) as the chart shows
    it (``shown(value)``): a tie names them all, so "most" stays true."""
    values = {k: v for k, v in values.items() if v is not None and v == v}
    if not values:
        return []
    best = (max if highest else min)(values.values())
    return [k for k, v in values.items() if shown(v) == shown(best)]


def and_join(names) -> str:
    """'A', 'A and B', 'A, B and C'."""
    names = [str(n) for n in names]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _empty(ax, message: str, why: str):
    """A chart with nothing to draw: its message and why, nothing else."""
    ax.set_axis_off()
    ax.text(0.5, 0.5, textwrap.fill(why, 40), ha="center", va="center", transform=ax.transAxes, color=DARK_GREY)
    return say(ax, message)


# --------------------------------------------------------------------------
# Executive summary


def arr_bridge(bridge: dict, ax, labels: dict | None = None):
    """The ARR bridge as a waterfall, one bar a row: the cohort's ARR a year
    ago, plus expansion, minus contraction and churn, the cohort's ARR now,
    plus new customers, every account's ARR now
    (:func:`vga.analysis.retention.arr_bridge`). Its title says where the
    year took the cohort's ARR and what took or added the most.

    Every label is in one unit, chosen from the largest bar (M or k), with
    the same decimals. A step smaller than :data:`MIN_STEP` of the largest
    bar (a small contraction) is drawn that long, from where it starts, so
    that it is seen; its label gives its amount, not the length drawn. The figure is
    :data:`BRIDGE_SIZE` when the axes are its only ones."""
    fig = ax.figure
    if len(fig.axes) == 1:
        fig.set_size_inches(*BRIDGE_SIZE)
    labels = labels or {"start": "a year ago", "expanded": "+ expansion", "contracted": "\u2212 contraction",
                        "churned": "\u2212 churn", "end": "same customers now", "new": "+ new customers",
                        "total": "all ARR now"}
    start, end = float(bridge["start"]), float(bridge["end"])
    steps = [("start", start, 0.0), ("expanded", float(bridge["expanded"]), start),
             ("contracted", -float(bridge["contracted"]), start + float(bridge["expanded"])),
             ("churned", -float(bridge["churned"]), start + float(bridge["expanded"]) - float(bridge["contracted"])),
             ("end", end, 0.0)]
    if float(bridge.get("new") or 0) > 0:
        steps += [("new", float(bridge["new"]), end), ("total", float(bridge["total"]), 0.0)]
    unit = money_unit([max(abs(v), abs(b + v)) for _, v, b in steps])
    top = max([abs(b + v) for _, v, b in steps] + [abs(v) for _, v, _ in steps] + [1.0])
    y = np.arange(len(steps))
    for i, (key, value, base) in enumerate(steps):
        total = key in ("start", "end", "total")
        length = value if total or abs(value) >= MIN_STEP * top or value == 0 else np.sign(value) * MIN_STEP * top
        left = 0.0 if total else (base if value >= 0 else base + length)
        ax.barh(i, abs(length), left=left, color=BRIDGE_COLORS[key], height=0.62)
        ax.text(max(left, left + abs(length)) + 0.015 * top, i,
                money_in(value, unit, sign=key in ("expanded", "new", "contracted", "churned")),
                va="center", ha="left", color=INK)
        if i < len(steps) - 1:  # the level this step ends at, carried to the next bar
            level = value if total else base + value
            ax.plot([level, level], [i + 0.31, i + 0.69], color=GREY, lw=1)
    ax.set_yticks(y, [labels[k] for k, _, _ in steps])
    ax.invert_yaxis()
    ax.set_xlim(0, top * 1.28)
    ax.set_xticks([])
    ax.spines[["top", "right", "bottom"]].set_visible(False)
    ax.tick_params(axis="y", length=0)
    return say(ax, bridge_message(bridge, unit))


#: A bridge's step shorter than this share of its largest bar is drawn this long.
MIN_STEP = 0.02
#: The bridge's figure (inches): seven rows, read on a phone.
BRIDGE_SIZE = (WIDTH, 3.0)


def bridge_message(bridge: dict, unit=None) -> str:
    """The bridge in a sentence: "Last year's customers went from 81.4M to
    69.3M of ARR: churn took 14.4M; new customers brought all ARR to 82.2M"."""
    unit = unit or money_unit([bridge.get(k) for k in ("start", "end", "total")])
    start, end = float(bridge["start"]), float(bridge["end"])
    say_ = lambda v: money_in(v, unit, currency=True)  # noqa: E731
    moves = {"churn": float(bridge["churned"]), "contraction": float(bridge["contracted"]),
             "expansion": float(bridge["expanded"])}
    if say_(end) == say_(start):
        head = f"Last year's customers held their ARR at {say_(end)}"
    else:
        head = f"ARR of last year's customers {'fell' if end < start else 'rose'} from {say_(start)} to {say_(end)}"
    losses = {k: moves[k] for k in ("churn", "contraction")}
    if end < start:
        name = max(losses, key=losses.get)
        head += f": {name} took {say_(losses[name])}"
    elif end > start:
        head += f": expansion added {say_(moves['expansion'])}"
    if float(bridge.get("new") or 0) > 0:
        head += f"; new customers brought all ARR to {say_(bridge['total'])}"
    return head


#: The trend's figure (inches): three panels, one under the other.
TREND_SIZE = (WIDTH, 2.7)
TREND_MEASURES = (("nrr", "NRR", True), ("grr", "GRR", True), ("logo_churn_rate", "logo churn", False))


def retention_trend(trend: pd.DataFrame, ax):
    """NRR, GRR and logo churn over the quarters the data covers (each over
    its own 12 months) as small multiples: one panel a measure, one under
    the other on the same quarters, each with its own range, its first and
    last values written beside their points and its change beside it; a
    dashed 100% line on NRR and GRR. The figure's title says how NRR moved
    (:func:`trend_message`). Draws in the place of ``ax``; the figure is
    :data:`TREND_SIZE` when ``ax`` is its only axes. Returns the panels."""
    fig = ax.figure
    if len(fig.axes) == 1:
        fig.set_size_inches(*TREND_SIZE)
    grid = ax.get_subplotspec().subgridspec(3, 1)
    ax.remove()
    panels = [fig.add_subplot(grid[i, 0]) for i in range(3)]
    rows = trend.assign(as_of=pd.to_datetime(trend["as_of"])).sort_values("as_of").reset_index(drop=True)
    x = np.arange(len(rows))
    for panel, (column, label, hundred) in zip(panels, TREND_MEASURES):
        values = 100 * pd.to_numeric(rows[column], errors="coerce") if len(rows) else pd.Series(dtype=float)
        shown = values.dropna()
        panel.set_xlim(-0.9, max(len(rows) - 1, 0) + 0.9)
        panel.set_yticks([])
        panel.spines[["left", "top", "right"]].set_visible(False)
        panel.set_ylabel(_panel_change(label, shown), rotation=0, ha="right", va="center", fontweight="bold",
                         labelpad=8)
        if shown.empty:
            panel.set_xticks([])
            continue
        panel.plot(x[shown.index], shown, color=BLUE, marker="o", ms=5, lw=2)
        first, last = shown.index[0], shown.index[-1]
        panel.annotate(f"{shown.iloc[-1]:.1f}%", (x[last], shown.iloc[-1]), xytext=(7, 0),
                       textcoords="offset points", va="center", ha="left", color=INK, fontweight="bold")
        if first != last:
            panel.annotate(f"{shown.iloc[0]:.1f}%", (x[first], shown.iloc[0]), xytext=(-7, 0),
                           textcoords="offset points", va="center", ha="right", color=DARK_GREY)
        low, high = float(shown.min()), float(shown.max())
        if hundred:
            high = max(high, 100.0)
            panel.axhline(100, color=INK, lw=1, ls=(0, (4, 3)))
            panel.annotate("100%", (1, 100), xycoords=("axes fraction", "data"), xytext=(0, 2),
                           textcoords="offset points", va="bottom", ha="right", color=DARK_GREY)
        span = max(high - low, 4.0)
        panel.set_ylim(low - 0.15 * span, high + 0.3 * span)
    ticks = list(x) if len(x) <= 6 else list(x[::-1][::2][::-1])
    for panel in panels[:-1]:
        panel.set_xticks([])
        panel.spines["bottom"].set_visible(False)
    panels[-1].set_xticks(ticks, [_quarter(rows["as_of"].iloc[i]) for i in ticks])
    panels[-1].spines["bottom"].set_color(GREY)
    panels[-1].tick_params(axis="x", color=GREY)
    fig.suptitle(_wrap(trend_message(rows), fig.get_figwidth() * 0.98), x=0.01, ha="left")
    return panels


def _panel_change(label: str, shown: pd.Series) -> str:
    """A panel's name and change in points: "NRR\n+3.3 pts"."""
    if shown.empty:
        return f"{label}\nno data"
    if len(shown) == 1:
        return label
    points = round(float(shown.iloc[-1] - shown.iloc[0]), 1) + 0.0
    return f"{label}\n{'unchanged' if points == 0 else f'{points:+.1f} pts'.replace('-', chr(0x2212))}"


def trend_message(trend: pd.DataFrame) -> str:
    """How NRR moved over the quarters shown: "NRR rose 3.3 points to 85.1%
    over the year"; one quarter or none said as such."""
    rows = trend.assign(as_of=pd.to_datetime(trend["as_of"])).sort_values("as_of")
    rows = rows[pd.to_numeric(rows["nrr"], errors="coerce").notna()] if len(rows) else rows
    if rows.empty:
        return "No quarter has an NRR to show"
    first, last = rows.iloc[0], rows.iloc[-1]
    if len(rows) == 1:
        return f"NRR {_pct(last['nrr'])} at {_quarter(last['as_of'])}: one quarter, no trend yet"
    quarters = (pd.Period(last["as_of"], "Q") - pd.Period(first["as_of"], "Q")).n
    span = "over the year" if quarters == 4 else f"since {_quarter(first['as_of'])}"
    points = _points(float(last["nrr"]), float(first["nrr"]))
    if points == 0:
        return f"NRR held at {_pct(last['nrr'])} {span}"
    verb = "rose" if points > 0 else "fell"
    return f"NRR {verb} {abs(points):.1f} point{'' if abs(points) == 1 else 's'} to {_pct(last['nrr'])} {span}"


# --------------------------------------------------------------------------
# Churned and renewed customers


def signal_leads(comparison: pd.DataFrame, axes, signals: dict[str, str]):
    """Mean of each signal 90, 60 and 30 days before the decision, churned
    against retained decisions, with the 95% interval of the difference
    drawn around the churned mean, one panel a signal. ``comparison``:
    churn_signals.csv. Each panel's title says the gap nearest the decision."""
    for ax, (signal, label) in zip(np.atleast_1d(axes), signals.items()):
        rows = comparison[comparison["signal"] == signal].sort_values("lead_days", ascending=False)
        if rows.empty:
            _empty(ax, f"{_upper(label)}: no decisions to compare", "No decision has this signal.")
            continue
        x = -rows["lead_days"].to_numpy()
        ax.plot(x, rows["second_value"], color=BLUE, marker="o", lw=2)
        low = rows["second_value"] + rows["ci_lower"]
        high = rows["second_value"] + rows["ci_upper"]
        ax.plot(x, rows["first_value"], color=VERMILLION, marker="s", lw=2)
        ax.fill_between(x, low.astype(float), high.astype(float), color=VERMILLION, alpha=0.15, lw=0)
        for values, name, color in ((rows["second_value"], "retained", BLUE), (rows["first_value"], "churned", VERMILLION)):
            if values.notna().iloc[-1]:
                ax.annotate(name, (x[-1], values.iloc[-1]), xytext=(6, 0), textcoords="offset points",
                            va="center", color=color, fontweight="bold")
        ax.set_xticks(x, [f"{d}" for d in rows["lead_days"]])
        ax.set_xlim(x.min() - 5, x.max() + 30)
        ax.set(xlabel="days before the decision", ylabel="mean")
        plain_numbers(ax, "y", 1 if rows["first_value"].abs().max() < 100 else 0)
        say(ax, lead_message(rows, label))
    return axes


def lead_message(rows: pd.DataFrame, label: str) -> str:
    """'Health score (0-100) ran 7.8 lower for churned accounts 30 days
    before (52.9 against 60.7)'; no clear gap said as such."""
    near = rows.sort_values("lead_days").iloc[0]
    if pd.isna(near["first_value"]) or pd.isna(near["second_value"]):
        return f"{_upper(label)}: not measured {near['lead_days']} days before"
    gap = round(float(near["first_value"] - near["second_value"]), 1) + 0.0
    values = f"{near['first_value']:,.1f} against {near['second_value']:,.1f}"
    if gap == 0 or not bool(near.get("flagged", False)):
        return f"{_upper(label)}: no clear gap between churned and retained accounts {near['lead_days']} days before ({values})"
    return (f"{_upper(label)} ran {abs(gap):,.1f} {'lower' if gap < 0 else 'higher'} for churned accounts "
            f"{near['lead_days']} days before ({values})")


def comparison_bars(table: pd.DataFrame, labels: pd.Series, ax, xlabel: str, title: str):
    """Differences with their 95% intervals as horizontal bars (significant
    rows blue, others grey); ``labels`` names each row for the reader,
    ``title`` is the chart's message."""
    y = _row_places(list(labels))
    colors = np.where(table["flagged"].astype(bool), BLUE, GREY)
    ax.barh(y, table["difference"], color=colors, height=0.75)
    err = np.vstack([table["difference"] - table["ci_lower"], table["ci_upper"] - table["difference"]])
    ax.errorbar(table["difference"], y, xerr=np.nan_to_num(err.astype(float)), fmt="none", ecolor=INK, lw=1)
    ax.axvline(0, color=INK, lw=1)
    ax.set_yticks(y, [_row_label(t) for t in labels])
    ax.invert_yaxis()
    ax.set(xlabel=xlabel)
    return say(ax, title)


def quadrant_scatter(quadrants: pd.DataFrame, *, usage_threshold=50.0, health_threshold=50.0, ax=None):
    """Usage (x) against health (y), one dot per active account sized by
    ARR, each quadrant named in its corner with its count. The title says
    how many accounts use the product heavily yet are unhappy."""
    ax = ax if ax is not None else new_figure(WIDTH, 4.4)[1]
    scored = quadrants.dropna(subset=["usage_score", "health_score"])
    if len(scored):
        top = scored["arr"].max()
        size = 8 + 110 * (scored["arr"] / top).fillna(0) if top and top == top else 20
        ax.scatter(scored["usage_score"], scored["health_score"], s=size, linewidths=0, alpha=0.7,
                   c=[QUADRANT_COLORS.get(q, GREY) for q in scored["quadrant"]])
    counts = scored["quadrant"].value_counts()
    corners = {"Relationship-Dependent": (0.01, 0.99, "left", "top"), "Champions": (0.99, 0.99, "right", "top"),
               "Churn Risk": (0.01, 0.01, "left", "bottom"),
               "Frustrated Power Users": (0.99, 0.01, "right", "bottom")}
    for name, (cx, cy, ha, va) in corners.items():
        ax.text(cx, cy, f"{name}\n{int(counts.get(name, 0)):,}", transform=ax.transAxes, ha=ha, va=va,
                fontweight="bold", color=INK, linespacing=1.1,
                bbox={"boxstyle": "round,pad=0.2", "facecolor": "white", "edgecolor": QUADRANT_COLORS[name],
                      "alpha": 0.9, "lw": 2})
    ax.axvline(usage_threshold, color=INK, lw=1, ls="--")
    ax.axhline(health_threshold, color=INK, lw=1, ls="--")
    ax.set(xlim=(-2, 102), ylim=(-2, 102), xlabel="usage score (0-100)", ylabel="health score (0-100)")
    return say(ax, quadrant_message(quadrants))


def quadrant_message(quadrants: pd.DataFrame) -> str:
    scored = quadrants.dropna(subset=["usage_score", "health_score"])
    if scored.empty:
        return "No active account has both a usage and a health score"
    fpu = scored[scored["quadrant"] == "Frustrated Power Users"]
    total = float(scored["arr"].sum())
    if fpu.empty:
        return f"None of the {len(scored):,} scored accounts uses the product heavily while unhappy"
    unit = money_unit([total])
    verbs = ("uses", "is") if len(fpu) == 1 else ("use", "are")
    return (f"{words.plural(len(fpu), 'account')} of {len(scored):,} {verbs[0]} the product heavily yet "
            f"{verbs[1]} unhappy, holding {money_in(fpu['arr'].sum(), unit, currency=True)} of ARR")


def quadrant_arr_bars(quadrants: pd.DataFrame, ax=None):
    """ARR per quadrant (horizontal bars), each with its amount and accounts;
    the title names the quadrant holding the most."""
    ax = ax if ax is not None else new_figure(WIDTH, 2.6)[1]
    grouped = quadrants.groupby("quadrant")["arr"].agg(["sum", "size"]).reindex(QUADRANTS).fillna(0)
    grouped = grouped[(grouped["size"] > 0) | (grouped.index != "Unscored")]
    unit = money_unit(grouped["sum"])
    ax.barh(grouped.index, grouped["sum"], color=[QUADRANT_COLORS[q] for q in grouped.index])
    for y, (total, count) in enumerate(zip(grouped["sum"], grouped["size"])):
        ax.text(total, y, f"  {money_in(total, unit)}, {words.plural(int(count), 'account')}", va="center")
    ax.set_yticks(range(len(grouped)), [textwrap.fill(q, 14) for q in grouped.index])
    ax.invert_yaxis()
    ax.set_xticks([])
    ax.spines[["bottom"]].set_visible(False)
    ax.tick_params(axis="y", length=0)
    ax.set_xlim(0, (grouped["sum"].max() or 1) * 1.75)
    return say(ax, _most(grouped["sum"], unit, "ARR"))


def _most(amounts: pd.Series, unit, what: str) -> str:
    """'Champions hold the most ARR: 29.8M of 82.2M (36.2%)', ties named together."""
    total = float(amounts.sum())
    if not len(amounts) or total <= 0:
        return f"No {what} to show"
    top = amounts.max()
    names = leaders(dict(amounts.items()), lambda v: money_in(v, unit))
    who = and_join(names)
    each = " each" if len(names) > 1 else ""
    return (f"{who} hold{'' if len(names) > 1 or who.endswith('s') else 's'} the most {what}: "
            f"{money_in(top, unit, currency=True)}{each} of {money_in(total, unit, currency=True)} "
            f"({_pct(top / total)}{each})")


def slice_churn_bars(slices: pd.DataFrame, overall_churn: float | None = None, ax=None, dimensions=None):
    """Churn rate of each tested slice, grouped by dimension (named in
    words), each bar labelled; slices flagged against the other known values
    of their dimension in vermillion, the whole cohort's churn a dashed line.
    The title says which slice churns most, or that none stands apart (over
    every tested slice). ``dimensions``: draw only these (:func:`key_dimensions`)."""
    tested = slices[slices["tested"].astype(bool)].copy()
    message = slice_message(tested, overall_churn)
    if dimensions is not None:
        tested = tested[tested["dimension"].isin(list(dimensions))]
    if ax is None:
        ax = new_figure(WIDTH, slice_height(len(tested), tested["dimension"].nunique()))[1]
    if tested.empty:
        return _empty(ax, message, "Every slice has too few accounts to judge.")
    flag_col = "known_flagged" if "known_flagged" in tested.columns else "flagged"
    tested["flag"] = tested[flag_col].astype(bool)
    order = (tested.groupby("dimension").agg(flag=("flag", "max"), top=("churn_rate", "max"))
             .sort_values(["flag", "top"], ascending=False).index)
    labels, values, colors, bold = [], [], [], []
    for dim in order:
        part = tested[tested["dimension"] == dim].sort_values("churn_rate", ascending=False)
        labels.append(_upper(words.dimension(dim)))
        values.append(np.nan)
        colors.append(GREY)
        bold.append(True)
        for r in part.itertuples():
            labels.append("  " + textwrap.shorten(str(r.value), 24, placeholder="…"))
            values.append(100 * float(r.churn_rate))
            colors.append(VERMILLION if r.flag else GREY)
            bold.append(False)
    y = np.arange(len(labels))
    ax.barh(y, np.nan_to_num(values), color=colors, height=0.72)
    for yi, v in zip(y, values):
        if v == v:  # over the cohort's line, on white
            ax.text(v, yi, f" {v:.1f}%", va="center", ha="left", zorder=4,
                    bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.3})
    ax.set_yticks(y, labels)
    for tick, strong in zip(ax.get_yticklabels(), bold):
        if strong:
            tick.set_fontweight("bold")
    ax.tick_params(axis="y", length=0)
    ax.invert_yaxis()
    ax.set_ylim(len(labels) - 0.5, -1.3)
    if overall_churn is not None and overall_churn == overall_churn:
        ax.axvline(100 * overall_churn, color=INK, ls="--", lw=1)
        ax.text(100 * overall_churn, -1.2, f" whole cohort {_pct(overall_churn)}", va="top", ha="left")
    ax.set_xlim(0, max(np.nanmax(values), 100 * (overall_churn or 0)) * 1.3)
    ax.set_xlabel("logo churn over the retention window")
    percent_axis(ax, "x")
    return say(ax, message)


def key_dimensions(slices: pd.DataFrame) -> list:
    """The dimensions a short slice chart shows: those with a slice flagged
    against their other known values, else the one of the slice that
    churns most."""
    tested = slices[slices["tested"].astype(bool)]
    flag_col = "known_flagged" if "known_flagged" in tested.columns else "flagged"
    flagged = list(dict.fromkeys(tested.loc[tested[flag_col].astype(bool), "dimension"]))
    if flagged or tested.empty:
        return flagged
    return [tested.loc[tested["churn_rate"].astype(float).idxmax(), "dimension"]]


def slice_height(tested: int, dimensions: int) -> float:
    """The slice chart's height (inches) for its rows."""
    return max(2.2, 0.22 * (tested + dimensions) + 1.3)


def slice_message(tested: pd.DataFrame, overall_churn: float | None = None) -> str:
    """The slice chart's message, true for any slices: the flagged slice
    that differs most, with its dimension's other values; or the range."""
    if tested.empty:
        return "No slice is large enough to test"
    flag_col = "known_flagged" if "known_flagged" in tested.columns else "flagged"
    rest_col = "known_rest_churn_rate" if "known_rest_churn_rate" in tested.columns else "rest_churn_rate"
    flagged = tested[tested[flag_col].astype(bool)]
    if len(tested) == 1:
        r = tested.iloc[0]
        return f"Only {words.slice_name(r['dimension'], r['value'])} is large enough to test: {_pct(r['churn_rate'])} churn"
    if flagged.empty:
        low, high = tested["churn_rate"].min(), tested["churn_rate"].max()
        text = f"No slice churns clearly apart from the rest of its dimension: {_pct(low)} to {_pct(high)}"
        return text + (f", {_pct(overall_churn)} overall" if overall_churn is not None and overall_churn == overall_churn else "")
    gap = (flagged["churn_rate"] - flagged[rest_col]).abs().fillna(-1)
    r = flagged.loc[gap.idxmax()]
    name = _upper(words.slice_name(r["dimension"], r["value"]))
    shown = tested["churn_rate"].map(lambda v: round(100 * float(v), 1))
    rate = round(100 * float(r["churn_rate"]), 1)
    if r["churn_rate"] > r[rest_col]:
        verb = "churns most" if (shown == rate).sum() == 1 and rate == shown.max() else "churns more"
    else:
        verb = "churns least" if (shown == rate).sum() == 1 and rate == shown.min() else "churns less"
    text = f"{name} {verb}: {_pct(r['churn_rate'])} against {_pct(r[rest_col])} for {_plural_dimension(r['dimension'])}"
    if len(flagged) > 1:
        text += f"; {words.plural(len(flagged) - 1, 'other slice')} stand{'s' if len(flagged) == 2 else ''} apart too"
    return text


def data_quality_bars(quality: dict, ax=None):
    """Share of rows quarantined per table, each bar labelled; the title
    names the table that lost most."""
    ax = ax if ax is not None else new_figure(WIDTH, 3)[1]
    names = [words.plain(n) for n in quality]
    share = [100 * q["rows_quarantined"] / q["rows_read"] if q["rows_read"] else 0 for q in quality.values()]
    ax.barh(names, share, color=BLUE)
    for y, (s, q) in enumerate(zip(share, quality.values())):
        ax.text(s, y, f" {_pct(s / 100, 2)} ({int(q['rows_quarantined']):,})", va="center")
    ax.invert_yaxis()
    ax.set_xlim(0, max(share + [0.01]) * 1.7)
    ax.set_xticks([])
    ax.spines[["bottom"]].set_visible(False)
    ax.tick_params(axis="y", length=0)
    ax.set_xlabel("rows quarantined, share of rows read (count)")
    held = sum(int(q["rows_quarantined"]) for q in quality.values())
    if not names:
        message = "No table was read"
    elif held == 0:
        message = "No row was quarantined in any table"
    else:
        top = max(share)
        names_ = leaders(dict(zip(names, share)), lambda v: _pct(v / 100, 2))
        message = (f"The {and_join(names_)} table{'s' if len(names_) > 1 else ''} lost the most rows to quarantine: "
                   f"{_pct(top / 100, 2)} of {'each' if len(names_) > 1 else 'its'} rows read")
    return say(ax, message)


def usage_trend(trend: pd.DataFrame, axes=None):
    """Product use per month, one measure a panel with its own unit:
    accounts with any use, the median events per session and (when
    measured) the median share of core features used. ``trend``: the
    quadrant step's usage_trend.csv; ``axes``: two or three panels (the
    third left out without core adoption). Each title says the change."""
    core = "median_core_adoption" in trend.columns and trend["median_core_adoption"].notna().any()
    if axes is None:
        axes = [new_figure(WIDTH, 2.6)[1] for _ in range(3 if core else 2)]
    by_month = trend.set_index("month")
    panels = [("active_accounts", "accounts with any product use", 1, 0),
              ("median_events_per_session", "events per session (median)", 1, 1)]
    if core:
        panels.append(("median_core_adoption", "core features used (median)", 100, 0))
    for ax, (column, label, scale, digits) in zip(axes, panels):
        values = scale * by_month[column].astype(float)
        ax.plot(by_month.index, values, color=BLUE, marker="o", ms=3, lw=2)
        ax.set_ylim(0, max(values.max() * 1.2, 1) if values.notna().any() else 1)
        if scale == 100:
            percent_axis(ax, "y")
        else:
            plain_numbers(ax, "y", digits)
        ax.xaxis.set_major_locator(matplotlib.dates.MonthLocator(bymonth=(1, 7)))
        ax.xaxis.set_major_formatter(matplotlib.dates.DateFormatter("%b %Y"))
        say(ax, _change_message(label, values, by_month.index, digits, "%" if scale == 100 else ""))
    for ax in list(axes)[len(panels):]:
        ax.set_axis_off()
    return axes


def _change_message(label: str, values: pd.Series, index, digits: int, suffix: str = "") -> str:
    """'Accounts with any product use: 1,072 in October 2024, 1,075 in September 2026'."""
    shown = values.dropna()
    if shown.empty:
        return f"{_upper(label)}: no month to show"
    fmt = lambda v: f"{v:,.{digits}f}{suffix}"  # noqa: E731
    last = shown.index[-1]
    when = lambda d: pd.Timestamp(d).strftime("%B %Y")  # noqa: E731
    if len(shown) == 1:
        return f"{_upper(label)}: {fmt(shown.iloc[-1])} in {when(last)}"
    first = shown.index[0]
    a, b = round(float(shown.iloc[0]), digits), round(float(shown.iloc[-1]), digits)
    if a == b:
        return f"{_upper(label)}: unchanged at {fmt(b)} from {when(first)} to {when(last)}"
    return f"{_upper(label)}: {'up' if b > a else 'down'} to {fmt(b)} in {when(last)}, from {fmt(a)} in {when(first)}"


def survival_curves(curves: pd.DataFrame, at_risk: dict, dimension: str, ax, *, test: dict | None = None,
                    alpha: float = 0.05, limit: int = len(CATEGORICAL)):
    """Kaplan-Meier curves of one dimension (``survival.csv`` rows), as steps
    from 100% at day 0 with their 95% bands, each named at its end, and the
    accounts at risk at each year written under the axis, one line a curve.
    ``at_risk``: survival.json's ``at_risk``; ``test``: the dimension's
    log-rank test (survival_tests.csv row), said in the title
    (:func:`survival_message`). At most ``limit`` curves, the largest groups
    (the title says when others are left out)."""
    from matplotlib.transforms import blended_transform_factory

    part_of = curves[curves["dimension"] == dimension]
    groups = list(dict.fromkeys(part_of["group"]))
    rows = {r["group"]: r for r in at_risk.get("rows", []) if r["dimension"] == dimension}
    groups.sort(key=lambda g: -(rows[g]["counts"][0] if g in rows and rows[g]["counts"] else 0))
    drawn = groups[:limit]
    palette = [INK] if drawn == ["all"] else list(CATEGORICAL)
    ends = []
    for color, group in zip(palette, drawn):
        part = part_of[part_of["group"] == group]
        x = np.concatenate([[0.0], part["time_days"].to_numpy(float)]) / 365.25
        y = np.concatenate([[1.0], part["survival"].to_numpy(float)])
        ax.step(x, y, where="post", color=color, lw=2)
        low = np.concatenate([[1.0], part["ci_lower"].to_numpy(float)])
        high = np.concatenate([[1.0], part["ci_upper"].to_numpy(float)])
        ax.fill_between(x, low, high, step="post", color=color, alpha=0.12, lw=0)
        ends.append((y[-1], _group_name(group), color))
    ax.set(xlabel="years since contract start", ylabel="still customers", ylim=(0, 1.04))
    percent_axis(ax, "y", share=True)
    times = at_risk.get("times") or []
    horizon = max([t / 365.25 for t in times] + [float(part_of["time_days"].max() or 0) / 365.25 if len(part_of) else 0]
                  + [1.0])
    ax.set_xlim(0, horizon * 1.02)
    if len(ends) > 1:
        _label_ends(ax, ends, horizon)
    if times:
        ax.set_xticks([t / 365.25 for t in times], [f"{t / 365:.0f}" if t % 365 == 0 else f"{t:,} d" for t in times])
        under = blended_transform_factory(ax.transData, ax.transAxes)
        lines = [(g, c) for g, c in zip(drawn, palette) if g in rows]
        # The table under the axis, in points below it: its place does not
        # depend on the plot's height.
        first = -3.4 * TEXT_PT
        ax.annotate("accounts at risk", (0, 0), xycoords="axes fraction", xytext=(0, first),
                    textcoords="offset points", ha="left", va="top", color=DARK_GREY)
        for i, (group, color) in enumerate(lines):
            below = first - 1.5 * TEXT_PT * (i + 1)
            if len(lines) > 1:
                ax.annotate(textwrap.shorten(_group_name(group), 12, placeholder="…"), (0, 0),
                            xycoords="axes fraction", xytext=(-3.3 * TEXT_PT, below), textcoords="offset points",
                            ha="right", va="top", color=INK)
                ax.annotate("\u25a0", (0, 0), xycoords="axes fraction", xytext=(-3.2 * TEXT_PT, below),
                            textcoords="offset points", ha="left", va="top", color=color)
            for t, c in zip(times, rows[group]["counts"]):
                ax.annotate(_short_count(c), (t / 365.25, 0), xycoords=under, xytext=(0, below),
                            textcoords="offset points", ha="center", va="top", color=INK)
    message = survival_message(curves, at_risk, dimension, test, alpha)
    if len(groups) > len(drawn):
        message += f" (the {len(drawn)} largest of {len(groups)} groups drawn)"
    return say(ax, message)


def _group_name(group) -> str:
    return "all accounts" if group == "all" else str(group)


def _short_count(n) -> str:
    return f"{n / 1000:.1f}k" if n >= 10_000 else f"{int(n):,}"


def _label_ends(ax, ends, horizon):
    """Names at the curves' ends, each after a square of its colour, moved
    apart so that none covers another."""
    ends = sorted(ends, key=lambda e: e[0])
    placed: list[float] = []
    for y, name, color in ends:
        y = max(y, placed[-1] + 0.085) if placed else y
        placed.append(y)
        ax.annotate("\u25a0 " + textwrap.shorten(name, 16, placeholder="…"), (horizon * 1.03, y), va="center",
                    ha="left", color=INK, annotation_clip=False)
        ax.annotate("\u25a0", (horizon * 1.03, y), va="center", ha="left", color=color, annotation_clip=False)


def survival_message(curves: pd.DataFrame, at_risk: dict, dimension: str, test=None, alpha: float = 0.05) -> str:
    """A survival panel's message: for all accounts, the share still
    customers a year in; by a dimension, which group keeps customers
    longest and shortest at the last year every drawn group reaches."""
    part = curves[curves["dimension"] == dimension]
    if part.empty:
        return "No account churned: every curve stays at 100%"

    def at(group, day):
        rows = part[(part["group"] == group) & (part["time_days"] <= day)]
        return 1.0 if rows.empty else float(rows["survival"].iloc[-1])

    if dimension == "all":
        if float(part["time_days"].max()) < 365:
            last = part.iloc[-1]
            return (f"{_pct(last['survival'])} of accounts were still customers {words.plural(int(last['time_days']), 'day')} "
                    "after their contract started, the longest follow-up")
        return f"{_pct(at('all', 365))} of accounts were still customers a year after their contract started"
    groups = list(dict.fromkeys(part["group"]))
    counts = {r["group"]: r["counts"] for r in at_risk.get("rows", []) if r["dimension"] == dimension}
    times = [t for t in at_risk.get("times") or [] if t > 0]
    reached = [t for i, t in enumerate(times, start=1)
               if all(g in counts and len(counts[g]) > i and counts[g][i] >= 10 for g in groups)]
    day = reached[-1] if reached else 365
    shares = {g: at(g, day) for g in groups}
    best, worst = max(shares, key=shares.get), min(shares, key=shares.get)
    years = f"{day / 365:.0f} year{'' if round(day / 365) == 1 else 's'}"
    dim = words.dimension(dimension)
    if _pct(shares[best]) == _pct(shares[worst]):
        return f"By {dim}, every group keeps {_pct(shares[best])} of its accounts after {years}"
    verdict = ""
    if test is not None and test.get("p_value") == test.get("p_value"):
        verdict = "; the curves differ" if test["p_value"] < alpha else "; the curves do not differ clearly"
    return (f"After {years}, {_pct(shares[best])} of {dim} {best} accounts are still customers, "
            f"{_pct(shares[worst])} of {worst}{verdict}")


#: Row labels of dot and bar charts: wrapped at this many characters, two lines at most.
LABEL_CHARS = 30


def _row_label(text) -> str:
    return textwrap.fill(textwrap.shorten(str(text), 2 * LABEL_CHARS - 2, placeholder="…"), LABEL_CHARS)


def _row_places(labels) -> np.ndarray:
    """Where each row sits (top 0, growing down): a two-line label takes
    more room than a one-line label."""
    sizes = np.array([1.0 + 0.55 * _row_label(t).count("\n") for t in labels])
    return np.cumsum(sizes) - sizes / 2 if len(sizes) else sizes


def rows_height(labels, base: float = 1.8) -> float:
    """A figure's height (inches) for one row per label, as :func:`ratio_dots`
    and :func:`comparison_bars` wrap and place them, plus ``base`` for the
    title and the axis."""
    places = _row_places(list(labels))
    return base + 0.3 * (places[-1] + 0.5 if len(places) else 1)


def ratio_dots(ratio: pd.Series, low: pd.Series, high: pd.Series, labels, q_values: pd.Series, ax, xlabel: str,
               alpha: float = 0.05, dark_color: str = VERMILLION):
    """Ratios (hazard or odds) with their 95% intervals as dots and bars on
    a log axis around 1: coloured where q < alpha, grey elsewhere."""
    y = _row_places(list(labels))
    colors = np.where(q_values.astype(float) < alpha, dark_color, GREY)
    ax.hlines(y, low, high, colors=colors, lw=2)
    ax.scatter(ratio, y, color=colors, zorder=3)
    ax.axvline(1, color=INK, lw=1)
    ax.set_xscale("log")
    lo, hi = float(low.min()), float(high.max())
    ticks = [t for t in (0.1, 0.25, 0.5, 1, 2, 4, 10, 25) if lo / 1.5 <= t <= hi * 1.5] or [1]
    ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
    ax.xaxis.set_minor_formatter(plt.NullFormatter())
    ax.set_yticks(y, [_row_label(t) for t in labels])
    ax.invert_yaxis()
    ax.set(xlabel=xlabel)
    return ax


def ratio_message(ratio: pd.Series, labels, q_values: pd.Series, alpha: float, phrase, noun: str = "term") -> str:
    """The clear ratio furthest from 1 in a sentence (``phrase(label,
    ratio)``), or that none is clear."""
    frame = pd.DataFrame({"ratio": ratio.astype(float).to_numpy(), "label": list(labels),
                          "q": q_values.astype(float).to_numpy()})
    frame = frame[frame["ratio"] > 0]
    strong = frame[frame["q"] < alpha]
    if frame.empty:
        return f"No {noun} to show"
    if strong.empty:
        return f"No {noun} is clearly different from 1 after adjusting for the {words.plural(len(frame), noun)} tested"
    r = strong.loc[np.log(strong["ratio"]).abs().idxmax()]
    text = phrase(str(r["label"]), float(r["ratio"]))
    if len(strong) > 1:
        text += f"; {words.plural(len(strong) - 1, f'other {noun}')} clear too"
    return text


def hazard_ratios(cox: pd.DataFrame, ax, alpha: float = 0.05):
    """Hazard ratios of ``cox.csv`` (with a ``q_value`` column, terms in
    words); the title names the clear term that changes the pace of churn most."""
    ratio_dots(cox["hazard_ratio"], cox["ci_lower"], cox["ci_upper"], cox["term"], cox["q_value"], ax,
               "hazard ratio (log scale; above 1: churn sooner)", alpha)

    def phrase(label, r):
        return (f"Accounts with {label} churn {r:.2f} times as fast" if r >= 1
                else f"Accounts with {label} churn {1 / r:.2f} times as slowly")

    return say(ax, ratio_message(cox["hazard_ratio"], cox["term"], cox["q_value"], alpha, phrase))


def warning_rates(warnings: pd.DataFrame, ax):
    """Per signal (``early_warning.csv``): the share of churned decisions it
    warned about and the share of retained ones it fired for, with their 95%
    intervals, as paired horizontal bars. The title names the signal that
    warns about most churn, with its false alarms."""
    rows = warnings.reset_index(drop=True)
    y = np.arange(len(rows))
    for offset, rate, low, high, color in (
            (-0.2, "recall", "recall_ci_lower", "recall_ci_upper", VERMILLION),
            (0.2, "false_alarm_rate", "false_alarm_ci_lower", "false_alarm_ci_upper", GREY)):
        values = rows[rate].astype(float).fillna(0).to_numpy()
        err = np.vstack([values - rows[low].astype(float).fillna(0).to_numpy(),
                         rows[high].astype(float).fillna(0).to_numpy() - values]).clip(min=0)
        ax.barh(y + offset, values, height=0.38, color=color, xerr=err, error_kw={"lw": 1, "capsize": 2, "ecolor": INK})
    ax.set_yticks(y, [textwrap.fill(str(s), 20) for s in rows["signal_name"]])
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:.0%}"))
    ax.set(xlabel="share of decisions it fired for in the 180 days before")
    if len(rows):
        top = rows["recall"].astype(float).fillna(-1)
        ax.text(0.99, 1.09, "churned, warned", color=VERMILLION, fontweight="bold", transform=ax.transAxes,
                ha="right", va="bottom")
        ax.text(0.99, 1.01, "renewed, false alarm", color=DARK_GREY, fontweight="bold", transform=ax.transAxes,
                ha="right", va="bottom")
        best = leaders(dict(zip(rows.index, rows["recall"].astype(float))), _pct)
        if best and len(best) == 1:
            r = rows.loc[best[0]]
            message = (f"{_upper(str(r['signal_name']))} warns about most churn: {_pct(r['recall'])} of churned "
                       f"decisions, with {_pct(r['false_alarm_rate'])} false alarms")
        elif best:
            message = (f"{_upper(and_join(rows.loc[best, 'signal_name']))} warn about most churn: "
                       f"{_pct(rows.loc[best[0], 'recall'])} of churned decisions each")
        else:
            message = "No signal could be checked"
    else:
        message = "No signal could be checked"
    return say(ax, message)


def warning_leads(per_decision: pd.DataFrame, signals: dict[str, str], ax):
    """Lead times (days from the first firing to the decision) of each signal
    over the churned decisions it warned about: a box per signal, points on
    top. The title gives the longest median lead."""
    churned = per_decision[per_decision["outcome"] == "churned"]
    data = [churned[s].dropna().to_numpy(float) if s in churned.columns else np.array([]) for s in signals]
    y = np.arange(len(data))
    shown = [i for i, d in enumerate(data) if len(d)]
    if shown:
        ax.boxplot([data[i] for i in shown], positions=[y[i] for i in shown], orientation="horizontal", widths=0.5,
                   showfliers=False, medianprops={"color": VERMILLION, "lw": 2}, boxprops={"color": INK},
                   whiskerprops={"color": INK}, capprops={"color": INK})
    for i, d in enumerate(data):
        jitter = (np.random.default_rng(i).random(len(d)) - 0.5) * 0.3
        ax.scatter(d, y[i] + jitter, s=4, color=DARK_GREY, alpha=0.35)
    ax.set_yticks(y, [textwrap.fill(str(s), 20) for s in signals.values()])
    ax.set_ylim(len(data) - 0.5, -0.5)
    ax.set_xlim(0, 185)
    ax.set(xlabel="days of warning before the churn decision")
    medians = {name: float(np.median(d)) for name, d in zip(signals.values(), data) if len(d)}
    if medians:
        names = leaders(medians, lambda v: f"{min(v, 180):.0f}")
        days = medians[names[0]]  # a signal that held on the first day checked: 180 days or more
        message = (f"{_upper(and_join(names))} warn{'s' if len(names) == 1 else ''} earliest: a median of "
                   + (f"{days:.0f} days" if days < 180 else "180 days or more") + " before churn")
    else:
        message = "No signal fired before a churn decision"
    return say(ax, message)


def calibration_plot(bins: list[dict], ax):
    """Predicted against observed rate per bin (``model_validation.json``'s
    ``calibration``), point size by n, with the diagonal of perfect
    calibration; the title says how far the bands are from it."""
    predicted = np.array([b["predicted"] for b in bins], dtype=float)
    observed = np.array([b["observed"] for b in bins], dtype=float)
    n = np.array([b["n"] for b in bins], dtype=float)
    ax.plot([0, 1], [0, 1], color=GREY, lw=1.5, ls="--")
    ax.text(0.5, 0.44, "perfect calibration", color=DARK_GREY, ha="left", va="top")
    ax.plot(predicted, observed, color=BLUE, lw=1.5)
    ax.scatter(predicted, observed, s=20 + 80 * n / max(n.max(), 1), color=BLUE, zorder=3)
    ax.set(xlim=(0, 1), ylim=(0, 1.02), xlabel="predicted chance of renewing", ylabel="share that renewed")
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:.0%}"))
    if len(n) and n.sum():
        miss = float(np.nansum(np.abs(observed - predicted) * n) / n.sum())
        message = (f"Predictions land within {100 * miss:.1f} points of what happened, on average over "
                   f"{words.plural(int(n.sum()), 'decision')}")
    else:
        message = "No later decision to check the predictions on"
    return say(ax, message)


def odds_ratios(terms: pd.DataFrame, ax, alpha: float = 0.05):
    """Odds ratios of ``model_terms.csv`` rows (``term_name`` as shown, and
    ``model``); the title names the clear term that moves the odds most."""
    ratio_dots(terms["odds_ratio"], terms["ci_lower"], terms["ci_upper"], terms["term_name"], terms["q_value"],
               ax, "odds ratio (log scale; above 1: more likely)", alpha, dark_color=BLUE)
    models = terms["model"] if "model" in terms.columns else pd.Series([""] * len(terms), index=terms.index)
    verbs = dict(zip(terms["term_name"], models.map({"renewal": "renew", "expansion": "expand"})))

    def phrase(label, r):
        verb = verbs.get(label)
        term = label.split(": ", 1)[1] if verb and ": " in label else label  # the verb names the model
        return (f"{_upper(term)} goes with {r:.2f} times the odds to {verb or 'succeed'}" if r >= 1
                else f"{_upper(term)} goes with odds to {verb or 'succeed'} {1 / r:.2f} times lower")

    return say(ax, ratio_message(terms["odds_ratio"], terms["term_name"], terms["q_value"], alpha, phrase))


def adoption_lines(adoption: pd.DataFrame, ax):
    """Mean core-feature adoption 90, 60 and 30 days before the decision per
    outcome (``adoption_by_outcome.csv``, measure ``core_adoption``), with
    95% intervals, each line named at its end; small groups drawn dashed,
    without an interval. The title gives renewed against churned, 30 days out."""
    core = adoption[adoption["measure"] == "core_adoption"]
    ends = []
    for outcome, color in OUTCOME_COLORS.items():
        part = core[core["outcome"] == outcome].sort_values("lead_days", ascending=False)
        if part.empty or part["value"].isna().all():
            continue
        x = part["lead_days"].to_numpy(float)
        small = bool(part["small"].astype(bool).any())
        ax.plot(x, part["value"], marker="o", color=color, ls="--" if small else "-", lw=2)
        if not small:
            ax.fill_between(x, part["ci_lower"].astype(float), part["ci_upper"].astype(float), color=color,
                            alpha=0.12, lw=0)
        ends.append((float(part["value"].iloc[-1]), 0, outcome + (" (few)" if small else ""), color))
    ax.set_xlim(95, 25)
    ax.set_xticks([90, 60, 30])
    if ends:
        ends = sorted(ends)
        low, high = ax.get_ylim()
        placed = []
        for value, _x, name, color in ends:
            v = max(value, placed[-1] + 0.07 * (high - low)) if placed else value
            placed.append(v)
            ax.text(28, v, name, color=color, va="center", ha="left", fontweight="bold")
    ax.set(xlabel="days before the renewal decision", ylabel="core features used")
    percent_axis(ax, "y", share=True)
    at = core[core["lead_days"] == core["lead_days"].min()].set_index("outcome")["value"] if len(core) else pd.Series()
    if {"renewed", "churned"} <= set(at.index) and at[["renewed", "churned"]].notna().all():
        lead = int(core["lead_days"].min())
        gap = _points(at["renewed"], at["churned"])
        message = (f"{lead} days before the decision, renewing accounts used {_pct(at['renewed'])} of the core "
                   f"features, churning ones {_pct(at['churned'])}")
        if gap == 0:
            message = f"{lead} days before the decision, renewing and churning accounts used {_pct(at['renewed'])} of the core features"
    else:
        message = "Core-feature use by outcome: renewed and churned are not both measured"
    return say(ax, message)
