"""Building blocks of what a notebook shows: escaped HTML, numbers for
people, tables and figures.

Every block is an :class:`Html` that Jupyter displays (``_repr_html_``) and
nbconvert renders into the report. Every string that comes from data is
escaped here (``html.escape`` or ``DataFrame.to_html(escape=True)``);
notebooks never build HTML from data. Figures are embedded PNGs with alt
text and a caption, so a report needs nothing beside itself.
"""

from __future__ import annotations

import base64
import html
import io
import re

import pandas as pd

from . import View

#: Characters that reorder how text around them is shown (right-to-left
#: overrides and isolates): data could use them to make a name or a number
#: read as something else, so no page of the report keeps them.
BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")


class Html:
    """A piece of the page; several combine with ``+`` or :func:`stack`.
    Bidirectional controls are removed from what it shows."""

    def __init__(self, body: str = ""):
        self.body = BIDI_CONTROLS.sub("", body)

    def _repr_html_(self) -> str:
        return self.body

    def __add__(self, other: "Html") -> "Html":
        return Html(self.body + other.body)

    def __str__(self) -> str:
        return self.body


def stack(*parts: Html | None) -> Html:
    """The parts one after another (None parts are left out)."""
    return Html("".join(p.body for p in parts if p is not None))


def missing(value) -> bool:
    return value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA


def pct(value, digits: int = 1) -> str:
    """A fraction as a percentage for people (0.934 -> '93.4%'); '–' when null;
    a share too small to show at ``digits`` reads '<0.01%', never '0.00%'."""
    if missing(value):
        return "–"
    v = 100 * float(value)
    smallest = 10 ** -digits
    if 0 < abs(v) < smallest:
        return f"<{smallest:.{digits}f}%"
    return f"{v:.{digits}f}%"


#: The currency code shown before amounts (``[report] currency``); empty: none.
CURRENCY = {"code": ""}


def set_currency(code: str) -> None:
    """Show ``code`` (e.g. ``EUR``) before every amount; set by
    :func:`vga.notebook.open_chapter` for its notebook, emptied between two
    notebooks in one kernel (:data:`vga.run.kernels.RESET`)."""
    CURRENCY["code"] = (code or "").strip()


def money(value, digits: int = 1) -> str:
    """A money amount, compact ('1.2M', '85.0k', 'EUR 1.2M' with a currency); '–' when null.
    ``digits``: decimals after the unit (2 where a reader multiplies it)."""
    if missing(value):
        return "–"
    v = float(value)
    prefix = f"{CURRENCY['code']} " if CURRENCY["code"] else ""
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(v) >= size:
            return f"{prefix}{v / size:,.{digits}f}{suffix}"
    return f"{prefix}{v:,.0f}"


def count(value) -> str:
    """A whole number with thousands separators; '–' when null."""
    return "–" if missing(value) else f"{int(value):,}"


def number(value, digits: int = 0) -> str:
    return "–" if missing(value) else f"{float(value):,.{digits}f}"


def p_value(value) -> str:
    """A p or q value for people: '< 0.001' below that, else three decimals (no 1e-07)."""
    if missing(value):
        return ""
    v = float(value)
    return "< 0.001" if v < 0.001 else f"{v:.3f}"


def stat(name: str, value) -> str:
    """'q = 0.012' or 'q < 0.001' for a sentence."""
    text = p_value(value)
    return f"{name} {text}" if text.startswith("<") else f"{name} = {text}"


def note(text: str, kind: str = "info") -> Html:
    """A visible note (``info``, ``skip`` or ``warn``); the text is escaped."""
    return Html(f'<div class="vga-note vga-{html.escape(kind)}">{html.escape(str(text))}</div>')


def not_shown(why: str = "see the note above") -> Html:
    """A section that has nothing to show, with a short pointer to why
    (the full reason is said once, above it)."""
    return note(f"Not shown: {why}.", "skip")


def skipped(view: View, facts: str, output: str, otherwise: str) -> Html:
    """The note shown for an output a step could not compute: the reason the
    step wrote in ``facts`` (its JSON output, under ``reasons``), else
    ``otherwise``; one sentence saying what was missing and what would fill it."""
    reasons = (view.get(facts) or {}).get("reasons") or {}
    text = reasons.get(output) or otherwise
    return note(text[0].upper() + text[1:] + ("" if text.endswith(".") else "."), "skip")


def finding(text: str) -> Html:
    """A finding: one sentence from the data, shown as such."""
    return Html(f'<p class="vga-finding">{html.escape(str(text))}</p>')


def kpis(items: list[tuple[str, str, str]]) -> Html:
    """Headline figures: (label, value, explanation) each; all escaped."""
    cards = "".join(
        f'<div class="vga-kpi"><div class="vga-kpi-value">{html.escape(v)}</div>'
        f'<div class="vga-kpi-label">{html.escape(label)}</div>'
        f'<div class="vga-kpi-note">{html.escape(explain)}</div></div>'
        for label, v, explain in items
    )
    return Html(f'<div class="vga-kpis">{cards}</div>')


#: Headers of common columns, in words.
HEADERS = {"arr": "ARR", "account_id": "account", "p_value": "p value", "q_value": "q value", "health_color": "health colour",
           "previous_quadrant": "previous quadrant", "arr_at_stake": "ARR at stake"}


def table(frame: pd.DataFrame, formats: dict | None = None, max_rows: int = 50, names: dict | None = None) -> Html:
    """An escaped HTML table; ``formats`` maps column -> function to text,
    ``names`` renames columns for the reader."""
    from .. import words

    shown = frame.head(max_rows).copy()
    for col in words.CODE_COLUMNS & set(shown.columns) - set(formats or {}):
        # Codes from the data or the configuration read as words, everywhere.
        name = {"term": words.term, "dimension": words.dimension}.get(col, words.plain)
        shown[col] = shown[col].map(lambda v, name=name: name(v) if isinstance(v, str) else v)
    for col, fmt in (formats or {}).items():
        if col in shown.columns:
            shown[col] = shown[col].map(fmt)
    for col in shown.columns:  # yes/no for people, not True/False
        if col not in (formats or {}) and pd.api.types.is_bool_dtype(shown[col]):
            shown[col] = shown[col].map({True: "yes", False: "no"})
    # Headers in words: a column not renamed reads "churn rate", not "churn_rate".
    shown = shown.rename(columns=names or {})
    shown.columns = [HEADERS.get(str(c), str(c).replace("_", " ")) for c in shown.columns]
    body = shown.to_html(index=False, escape=True, na_rep="", border=0, classes="vga-table")
    more = (f'<div class="vga-more">The first {max_rows:,} of {len(frame):,} rows; every row is in the run\'s '
            'results folder.</div>' if len(frame) > max_rows else "")
    # A wide table scrolls inside its own box on a narrow screen; the page never scrolls sideways.
    return Html(f'<div class="vga-scroll">{body}</div>{more}')


def bullets(lines: list[str]) -> Html:
    items = "".join(f"<li>{html.escape(str(line))}</li>" for line in lines)
    return Html(f'<ul class="vga-list">{items}</ul>')


def figure(fig, alt, caption: str = "") -> Html:
    """A matplotlib figure as an embedded PNG with alt text (and a caption);
    made by :func:`vga.present.plots.new_figure`, outside pyplot.

    ``fig`` may be a list of figures and ``alt`` the list of their alt
    texts: small multiples, side by side on a wide screen, one under the
    other on a phone, under one caption.

    Each ``<img>`` carries its size in CSS pixels (``width``, ``height``;
    the image holds :data:`vga.present.plots.DENSITY` times as many pixels,
    for a phone's sharp screen) and ``data-min-text-px-at-390``: the height in CSS
    pixels of its smallest text on a 390 px wide phone, where it is shown
    at most :data:`vga.present.plots.PHONE_PX` wide
    (:func:`vga.present.plots.text_px`)."""
    figures = list(fig) if isinstance(fig, (list, tuple)) else [fig]
    alts = list(alt) if isinstance(alt, (list, tuple)) else [alt]
    if len(alts) != len(figures):
        raise ValueError(f"{len(figures)} figures need {len(figures)} alt texts, not {len(alts)}")
    images = [_image(f, a) for f, a in zip(figures, alts)]
    cap = f"<figcaption>{html.escape(caption)}</figcaption>" if caption else ""
    if len(images) == 1:
        return Html(f'<figure class="vga-figure">{images[0][0]}{cap}</figure>')
    # Each panel grows from the phone's width to its own: two side by side on
    # a wide screen, one under the other on a phone (no page CSS needed).
    panels = "".join(f'<div style="flex:1 1 {_PANEL_PX}px;min-width:0;max-width:{width}px">{img}</div>'
                     for img, width in images)
    return Html(f'<figure class="vga-figure"><div class="vga-panels" style="display:flex;flex-wrap:wrap;'
                f'gap:10px 28px;align-items:flex-start">{panels}</div>{cap}</figure>')


#: A panel's narrowest width beside others (CSS px): two fit beside each other
#: in the report's column (at most 1,100 px less its padding), not three.
_PANEL_PX = 340


def _image(fig, alt: str) -> tuple[str, int]:
    """One figure as an ``<img>`` (see :func:`figure`) and its width in CSS px.
    Drawn at :data:`vga.present.plots.DENSITY` image pixels a CSS pixel (sharp
    on a phone's screen), in at most 256 colours (a third of the bytes)."""
    import struct

    from . import plots

    plots.fit(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=plots.DPI * plots.DENSITY, bbox_inches="tight", pad_inches=0.06)
    png = _fewer_colours(buffer.getvalue())
    pixels = struct.unpack(">II", png[16:24])  # the IHDR chunk
    width, height = (max(1, round(n / plots.DENSITY)) for n in pixels)
    smallest = plots.smallest_text(fig)
    readable = "" if smallest is None else f' data-min-text-px-at-390="{plots.text_px(smallest, width):.1f}"'
    data = base64.b64encode(png).decode("ascii")
    return (f'<img src="data:image/png;base64,{data}" alt="{html.escape(str(alt))}" width="{width}" '
            f'height="{height}"{readable}>', width)


def _fewer_colours(png: bytes) -> bytes:
    """A chart's PNG in at most 256 colours, without dithering: flat colours
    and anti-aliased text stay as they were drawn."""
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB")
    out = io.BytesIO()
    image.quantize(colors=256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE).save(out, "PNG")
    return out.getvalue()
