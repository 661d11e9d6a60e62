"""The one-file report, built from the executed notebooks.

The report is rendered with nbconvert, without code, with images embedded
(the presenters in :mod:`vga.present` already embed them, escaped) and no
reference to anything on the network (checked before it is written).
Warnings about the period's coverage open the page, before any number.
"""

from __future__ import annotations

import html
import re
from datetime import datetime, timezone
from pathlib import Path

import nbformat

from .errors import VgaError

CSS = """
body{font-family:-apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;margin:0;color:#1f2933;background:#f5f7fa;line-height:1.45}
header.vga-head{background:#102a43;color:#fff;padding:24px 40px}
header.vga-head h1{margin:0 0 4px 0;font-size:26px;color:#fff}
header.vga-head .meta{opacity:.8;font-size:13px}
nav.vga-toc{background:#fff;border-bottom:1px solid #d9e2ec;padding:10px 40px;font-size:14px}
nav.vga-toc a{margin-right:18px;color:#243b53;text-decoration:none;display:inline-block;white-space:nowrap}
main{max-width:1100px;margin:0 auto;padding:10px 40px 60px}
section.vga-section{background:#fff;border:1px solid #d9e2ec;border-radius:8px;margin:22px 0;padding:10px 28px 24px}
h1,h2,h3{color:#102a43}
.vga-kpis{display:grid;grid-template-columns:repeat(auto-fill,minmax(160px,1fr));gap:12px;margin:12px 0}
.vga-kpi{min-width:0;border:1px solid #d9e2ec;border-radius:8px;padding:12px 14px;background:#f8fafc}
.vga-kpi-value{font-size:26px;font-weight:600;color:#102a43}
.vga-kpi-label{font-size:13px;font-weight:600;margin-top:2px}
.vga-kpi-note{font-size:12px;color:#627d98;margin-top:4px}
.vga-note{border-left:4px solid #2680c2;background:#eef6fc;padding:8px 12px;margin:10px 0;font-size:14px}
.vga-skip{border-color:#9e9e9e;background:#f3f3f3}
.vga-warn{border-color:#ef6c00;background:#fff4e5}
table.vga-table,table.dataframe{border-collapse:collapse;font-size:13px;margin:8px 0}
table.vga-table th,table.vga-table td,table.dataframe th,table.dataframe td{border-bottom:1px solid #e4e7eb;padding:4px 10px;text-align:left}
table.vga-table th{background:#f0f4f8}
.vga-more{font-size:12px;color:#627d98}
.vga-finding{font-size:15px;margin:10px 0;padding-left:10px;border-left:3px solid #102a43}
figure.vga-figure{margin:12px 0}
figure.vga-figure figcaption{font-size:12px;color:#627d98}
.vga-banner{max-width:1100px;margin:16px auto 0;padding:0 40px}
img{max-width:100%}
.jp-OutputPrompt,.jp-InputPrompt{display:none}
a.anchor-link{display:none}
footer{font-size:12px;color:#627d98;text-align:center;padding:20px}
"""

#: Characters that reorder how text around them is shown (right-to-left
#: overrides and isolates): data could use them to make a name or a number
#: read as something else, so no page of the report keeps them.
BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")


class ReportError(VgaError):
    """The report could not be written as promised (self-contained, nothing
    loaded from the network): the run stops, and leaves nothing behind."""


#: Attributes whose URL the browser fetches as the page loads (or on a click, for links).
URL_ATTRIBUTES = {"src", "href", "srcset", "action", "formaction", "poster", "data", "background", "xlink:href",
                  "ping", "manifest", "codebase", "cite", "longdesc", "lowsrc", "dynsrc"}
_CSS_URL = re.compile(r"url\(\s*(['\"]?)(.*?)\1\s*\)|@import", re.I | re.S)


def _loads(url: str) -> bool:
    """Whether a URL in an attribute or in CSS reaches beyond the page: an
    embedded ``data:`` URL and an anchor inside the page do not."""
    u = re.sub(r"[\x00-\x20]", "", html.unescape(url)).lower()
    return bool(u) and not u.startswith(("data:", "#"))


def _css_loads(css: str) -> list[str]:
    found = []
    for m in _CSS_URL.finditer(css):
        if m.group(0).lower() == "@import" or _loads(m.group(2) or ""):
            found.append(m.group(0)[:120])
    return found


def _strip_for_report(nb):
    """Drop what an executive should not see: stderr, warnings, errors."""
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        cell.outputs = [
            o for o in cell.get("outputs", [])
            if not (o.get("output_type") == "stream" and o.get("name") == "stderr") and o.get("output_type") != "error"
        ]
    return nb


def network_references(text: str) -> list[str]:
    """Every place in an HTML page that would load something from the
    network (or leave the page): a tag attribute holding a URL other than
    an embedded ``data:`` one or an anchor, and CSS ``url(...)`` or
    ``@import`` in a ``<style>`` element or a ``style`` attribute. Text is
    not looked at: data shown as text (escaped) loads nothing, whatever
    words it holds."""
    from html.parser import HTMLParser

    found: list[str] = []

    class Scan(HTMLParser):
        in_style = False

        def handle_starttag(self, tag, attrs):
            self.in_style = tag == "style"
            for name, value in attrs:
                if value is None:
                    continue
                if name == "style":
                    found.extend(_css_loads(value))
                elif name in URL_ATTRIBUTES or name.startswith("on"):
                    urls = [v.strip().split(" ")[0] for v in value.split(",")] if name == "srcset" else [value]
                    if name.startswith("on") or any(_loads(u) for u in urls):
                        found.append(f"<{tag} {name}={value[:80]!r}>")

        def handle_startendtag(self, tag, attrs):
            self.handle_starttag(tag, attrs)

        def handle_endtag(self, tag):
            if tag == "style":
                self.in_style = False

        def handle_data(self, data):
            if self.in_style:
                found.extend(_css_loads(data))

    Scan(convert_charrefs=True).feed(text)
    return found


def build_report(notebooks: list[tuple[str, Path]], out: Path, *, title: str, subtitle: str,
                 warnings: list[str] = (), missing: list[str] = ()) -> Path:
    """Render executed notebooks into one self-contained HTML file.

    ``notebooks`` is a list of (section title, executed .ipynb path), in the
    order the reader should see them; ``missing`` names steps of the series
    that have no section (said at the top, not hidden). Code is left out; images are embedded
    as data URIs; nothing is loaded from the network (checked).
    """
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="basic")
    exporter.exclude_input = True
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    sections, toc = [], []
    for i, (name, path) in enumerate(notebooks, start=1):
        nb = _strip_for_report(nbformat.read(path, as_version=4))
        body, _ = exporter.from_notebook_node(nb)
        anchor = f"section-{i}"
        toc.append(f'<a href="#{anchor}">{html.escape(name)}</a>')
        sections.append(f'<section class="vga-section" id="{anchor}">{body}</section>')
    notes = list(warnings)
    if missing:
        notes.append("Not part of this report: " + "; ".join(missing) + ".")
    banner = "".join(f'<div class="vga-note vga-warn">{html.escape(w)}</div>' for w in notes)
    banner = f'<div class="vga-banner" role="alert">{banner}</div>' if banner else ""
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    page = (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{html.escape(title)}</title>"
        f"<style>{CSS}</style></head><body>"
        f'<header class="vga-head"><h1>{html.escape(title)}</h1><div class="meta">{html.escape(subtitle)}</div></header>'
        f'<nav class="vga-toc">{"".join(toc)}</nav>{banner}<main>{"".join(sections)}</main>'
        f"<footer>Generated by vga on {stamp}. Figures follow the metric definitions in the README.</footer>"
        "</body></html>\n"
    )
    page = BIDI_CONTROLS.sub("", page)  # no text of the data may reorder what a reader sees
    found = network_references(page)
    if found:
        raise ReportError(f"the report would load from the network ({'; '.join(found[:3])}); it was not written, and "
                          "earlier reports are untouched")
    out.write_text(page, encoding="utf-8")
    return out
