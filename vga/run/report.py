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

from ..errors import VgaError
from ..present.blocks import BIDI_CONTROLS

CSS = """
body{font-family:-apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;margin:0;color:#1f2933;background:#f5f7fa;line-height:1.45}
header.vga-head{background:#102a43;color:#fff;padding:12px 40px}
header.vga-head h1{margin:0 0 2px 0;font-size:22px;color:#fff}
header.vga-head .meta{opacity:.8;font-size:13px}
nav.vga-toc{background:#fff;border-bottom:1px solid #d9e2ec;padding:6px 40px;font-size:13px;position:sticky;top:0;z-index:10;
 display:flex;flex-wrap:wrap;gap:2px 16px;box-shadow:0 1px 3px rgba(16,42,67,.08)}
nav.vga-toc a{color:#243b53;text-decoration:none;white-space:nowrap}
html{scroll-padding-top:48px}
main{max-width:1100px;margin:0 auto;padding:10px 40px 60px}
section.vga-section{background:#fff;border:1px solid #d9e2ec;border-radius:8px;margin:16px 0;padding:4px 28px 18px}
section.vga-section h1{font-size:26px;margin:12px 0 6px}
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
img{max-width:100%;height:auto}
.vga-scroll{max-width:100%;overflow-x:auto}
details.vga-detail{margin:10px 0;border-top:1px solid #e4e7eb;padding-top:6px}
details.vga-detail>summary{cursor:pointer;color:#243b53;font-size:14px;font-weight:600;padding:4px 0}
details.vga-banner-notes>summary{cursor:pointer;font-weight:600}
.vga-first-when{font-size:13px;color:#627d98;margin:6px 0 0}
.vga-kpis-3{grid-template-columns:repeat(3,minmax(0,1fr))}
.vga-kpi-label a,.vga-action-meta a{color:inherit}
.vga-kpi-change{font-size:13px;color:#243b53;margin-top:2px}
.vga-first-grid{display:grid;grid-template-columns:minmax(0,1.2fr) minmax(0,1fr);gap:18px;align-items:start}
.vga-h3{margin:6px 0}
ol.vga-actions{list-style:none;padding:0;margin:0}
li.vga-action{border:1px solid #d9e2ec;border-radius:8px;padding:8px 12px;margin:0 0 8px;background:#f8fafc}
.vga-action-what{font-weight:600;font-size:14px}
.vga-action-n{display:inline-block;width:20px;height:20px;border-radius:10px;background:#102a43;color:#fff;text-align:center;
 font-size:12px;line-height:20px;margin-right:6px}
.vga-action-why{font-size:13px;color:#334e68;margin:2px 0 0 26px}
.vga-action-meta{font-size:12px;color:#486581;margin:2px 0 0 26px;display:flex;flex-wrap:wrap;gap:4px 14px}
.vga-action-sum{font-size:11.5px;line-height:1.3;color:#52606d;margin:1px 0 0 26px;font-variant-numeric:tabular-nums}
ul.vga-news{margin:4px 0 8px;padding-left:10px;list-style:none;font-size:13px;line-height:1.3}
ul.vga-news li{margin:1px 0}
.vga-news-bad{color:#7f1d1d}
.vga-action-total{font-size:13px;font-weight:600;margin:6px 0 0}
.vga-first figure.vga-figure{margin:0}
dl.vga-glossary{display:grid;grid-template-columns:repeat(auto-fill,minmax(300px,1fr));gap:4px 24px;font-size:13px}
dl.vga-glossary div{break-inside:avoid}
dl.vga-glossary dt{font-weight:600;margin-top:6px}
dl.vga-glossary dd{margin:1px 0 0 0}
a.vga-term{color:inherit;text-decoration:underline dotted}
@media screen and (max-width:800px){
 header.vga-head{padding:10px 16px} header.vga-head h1{font-size:19px} section.vga-section h1{font-size:22px}
 nav.vga-toc{padding:8px 16px;flex-wrap:nowrap;overflow-x:auto} main{padding:4px 10px 40px} .vga-banner{padding:0 10px}
 section.vga-section{padding:6px 14px 16px}
 .vga-first-grid{grid-template-columns:minmax(0,1fr)}
 .vga-kpi{padding:8px} .vga-kpi-value{font-size:20px} .vga-kpi-note{display:none}
}
@media print{
 nav.vga-toc,.vga-banner{display:none} body{background:#fff;font-size:11px;line-height:1.35}
 main{padding:0;max-width:none} .vga-finding{font-size:11.5px;margin:5px 0} section.vga-section h1{font-size:20px;margin:4px 0}
 h2{font-size:15px;margin:8px 0 4px} .vga-kpi-value{font-size:20px} .vga-kpi{padding:6px 10px} .vga-action-what{font-size:12px}
 li.vga-action{padding:5px 8px;margin-bottom:5px} figure.vga-figure img{max-height:300px;width:auto}
 section.vga-section{border:0;margin:0;padding:0 0 10px;break-after:page}
 section.vga-appendix,#glossary{break-after:auto} h2.vga-appendix-head{break-before:page;border:0;margin-top:0}
 details.vga-detail{display:none}
 header.vga-head{padding:8px 0;background:#fff;color:#102a43} header.vga-head h1{color:#102a43}
 .vga-finding{break-inside:avoid} li.vga-action{break-inside:avoid}
 @page{size:A4;margin:14mm}
}
.jp-OutputPrompt,.jp-InputPrompt{display:none}
a.anchor-link{display:none}
footer{font-size:12px;color:#627d98;text-align:center;padding:20px}
h2.vga-appendix-head{font-size:20px;margin:34px 0 4px;padding-top:10px;border-top:2px solid #bcccdc;color:#486581}
nav.vga-toc a.vga-toc-appendix{color:#627d98}
.vga-analyst{border-left:4px solid #9f7aea;padding:2px 0 2px 12px;margin:12px 0}
.vga-analyst-mark{font-size:12px;font-weight:600;color:#553c9a;margin:6px 0}
.vga-kicker{font-size:12px;font-weight:600;letter-spacing:.04em;text-transform:uppercase;color:#627d98;margin:14px 0 0}
section.vga-section h1.vga-headline{font-size:21px;line-height:1.3;margin:2px 0 10px}
sup.vga-noteref{font-size:10px;line-height:0} sup.vga-noteref a{color:#627d98;text-decoration:none}
ol.vga-method{font-size:12.5px;color:#334e68;padding-left:22px} ol.vga-method li{margin:3px 0}
ol.vga-method table{font-size:11.5px}
"""



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


def _strip_for_report(nb, yours: bool = False):
    """Drop what an executive should not see: stderr, warnings, errors. The
    output of the analyst's own code (a cell tagged ``analyst``, or every
    cell of a chapter of the analyst's own, ``yours``) is held to the
    report's rules as vga's own is: only text, HTML through the Markdown
    allow-list, and PNG or JPEG images reach the page, and no e-mail
    address or phone number (:func:`_analysts_output`)."""
    from .series import is_analysts

    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        cell.outputs = [
            o for o in cell.get("outputs", [])
            if not (o.get("output_type") == "stream" and o.get("name") == "stderr") and o.get("output_type") != "error"
        ]
        if yours or is_analysts(cell):
            cell.outputs = _once([o for o in map(_analysts_output, cell.outputs) if o is not None])
    return nb


def _once(outputs: list) -> list:
    """Each image once: a pyplot figure that a cell also returns is shown by
    Jupyter twice (its repr, then pyplot's own display at the cell's end)."""
    seen, kept = set(), []
    for output in outputs:
        image = (output.get("data") or {}).get("image/png")
        if image is not None:
            if image in seen:
                continue
            seen.add(image)
        kept.append(output)
    return kept


#: What an output of the analyst's own code may show, by MIME type.
ANALYST_OUTPUTS = ("text/plain", "text/html", "text/markdown", "image/png", "image/jpeg")


def _analysts_output(output):
    """One output of the analyst's code, as the report may show it."""
    from ..privacy import mask_contacts

    if output.get("output_type") == "stream":
        output["text"] = mask_contacts(output.get("text", ""))
        return output
    data = output.get("data") or {}
    kept = {kind: value for kind, value in data.items() if kind in ANALYST_OUTPUTS}
    for kind in ("text/plain", "text/markdown"):
        if kind in kept:
            kept[kind] = mask_contacts("".join(kept[kind]) if isinstance(kept[kind], list) else kept[kind])
    if "text/html" in kept:
        page = "".join(kept["text/html"]) if isinstance(kept["text/html"], list) else kept["text/html"]
        kept["text/html"] = sanitise_markdown(mask_contacts(page))
    if not kept:  # nothing the report may show (a script, an SVG)
        return None
    output["data"] = kept
    return output


#: The line above the analyst's own cells in a chapter, and above a chapter of the analyst's own.
ANALYST_MARK = "Added by the analyst: not part of vga's tested series"


def _mark_yours(body: str) -> str:
    """A chapter of the analyst's own, said under its heading (or at its top)."""
    mark = f'<div class="vga-analyst-mark">{ANALYST_MARK}</div>'
    heading = re.search(r"</h1>", body)
    return body[:heading.end()] + mark + body[heading.end():] if heading else mark + body


def _mark_analysts(body: str, nb) -> str:
    """The cells tagged ``analyst`` shown as the analyst's: each run of them
    boxed under one line saying so."""
    from .series import is_analysts

    mine = {c.get("id") for c in nb.cells if is_analysts(c)}
    if not mine:
        return body
    marks = list(_CELL.finditer(body))
    out, last, open_run = [], 0, False
    for m in marks:
        out.append(body[last:m.start()])
        if m.group(1) in mine and not open_run:
            out.append(f'<div class="vga-analyst"><div class="vga-analyst-mark">{ANALYST_MARK}</div>')
            open_run = True
        elif m.group(1) not in mine and open_run:
            out.append("</div>")
            open_run = False
        last = m.start()
    out.append(body[last:])
    if open_run:
        # The last cell's own closing tags are in the tail: the box closes after them.
        out.append("</div>")
    return "".join(out)


#: The report's glossary: (anchor, term, one plain sentence, the words that
#: link to it on their first use in the report). Every metric and statistical
#: term the report uses is here; ``tests/test_browser.py`` follows every link.
GLOSSARY = [
    ("arr", "ARR", "Annual recurring revenue: what an account pays per year on a given date.", [r"\bARR\b"]),
    ("nrr", "Net revenue retention (NRR)", "What last year's customers pay today as a share of what they paid a year "
     "ago; above 100% means growth from existing customers outweighed every loss.",
     [r"\bNet revenue retention\b", r"\bnet revenue retention\b", r"\bNRR\b"]),
    ("grr", "Gross revenue retention (GRR)", "Like NRR but counting no growth: the share of last year's ARR that was "
     "kept, at most 100%.", [r"\b[Gg]ross revenue retention\b", r"\bGRR\b"]),
    ("logo-churn", "Logo churn", "The share of the accounts paying a year ago that pay nothing today.",
     [r"\b[Ll]ogo churn\b"]),
    ("cohort", "Retention cohort", "The accounts paying at the start of the 12 months the retention figures cover; "
     "every retention figure is about them.", [r"\b(?:retention )?cohort\b"]),
    ("expansion", "Expansion, contraction, churn", "Compared with a year ago, an account that pays more expanded, one "
     "that pays less but something contracted, one that pays nothing churned.", [r"\bexpansion\b", r"\bexpanded\b"]),
    ("bridge", "ARR bridge", "How last year's ARR became this year's: plus expansion, minus contraction and churn, "
     "then the ARR of new customers.", [r"\bARR bridge\b"]),
    ("money-at-risk", "Money at risk", "The ARR of the accounts exposed to a gap today, times how much more of their "
     "ARR such accounts lost over the past window than the group they are compared with: what the gap costs over "
     "the next year if nothing changes.", [r"\b[Mm]oney at risk\b", r"\bat risk now\b"]),
    ("arr-kept", "ARR that would have been kept", "The ARR the company would still have had the exposed accounts "
     "lost ARR at the rate of the group they are compared with, over the window measured.",
     [r"\bwould have been kept\b"]),
    ("interval", "95% interval", "The range a figure lies in with 95% confidence, given how many accounts it rests "
     "on; a range that reaches below zero means the gap may not be real.", [r"\b95% interval\b"]),
    ("tested", "Tested gap", "A difference between two groups that a statistical test says is unlikely to be chance "
     "(its q value below 0.05), after allowing for the number of comparisons made.",
     [r"\btested (?:value )?gaps?\b", r"\bnot a test\b"]),
    ("q-value", "q value", "The chance that a difference this large is luck, corrected for the number of "
     "comparisons made at once (Benjamini-Hochberg); below 0.05 counts as a real difference.",
     [r"\bq values?\b", r"\bq [=<] ?0"]),
    ("look-back", "Churn look-back", "The months of renewal decisions (18 by default) that the churned- and "
     "renewed-customer analyses study; longer than the 12 months of the retention figures.",
     [r"\blook-back\b"]),
    ("decision", "Renewal decision", "A renewal date of a paying account: it churned, shrank, renewed flat or "
     "expanded.", [r"\brenewal decisions?\b"]),
    ("quadrant", "Usage-Health quadrant", "Every active account placed by how much it uses the product and how "
     "healthy the relationship is: Champions, Frustrated Power Users, Relationship-Dependent, Churn Risk.",
     [r"\b[Qq]uadrants?\b"]),
    ("frustrated", "Frustrated Power Users", "Accounts that use the product heavily but whose health score is low: "
     "they get value yet are unhappy.", [r"\bFrustrated Power Users?\b"]),
    ("churn-risk", "Churn Risk", "Accounts with low usage and low health.", [r"\bChurn Risk\b"]),
    ("champions", "Champions", "Accounts with high usage and high health.", [r"\bChampions\b"]),
    ("relationship", "Relationship-Dependent", "Accounts with high health but low usage: kept by the relationship "
     "more than by the product.", [r"\bRelationship-Dependent\b"]),
    ("health-score", "Health score", "0 to 100: the customer success team's score where it exists, else a composite "
     "of surveys, tickets and contacts.", [r"\b[Hh]ealth score\b"]),
    ("usage-score", "Usage score", "0 to 100: how fully an account used the product in the 90 days to a date "
     "(core features, active days, depth, completed workflows).", [r"\b[Uu]sage score\b"]),
    ("survival", "Survival curve", "The share of customers still paying after each number of days since their "
     "contract began.", [r"\b[Ss]urvival\b"]),
    ("hazard-ratio", "Hazard ratio", "How much faster one group churns than its comparison group at any moment: 2 "
     "means twice as fast.", [r"\b[Hh]azard ratios?\b"]),
    ("odds-ratio", "Odds ratio", "How much more likely an outcome is with a trait than without it, as a ratio of "
     "odds: 7 means seven times the odds.", [r"\b[Oo]dds ratios?\b"]),
    ("auc", "AUC", "How well a model ranks accounts that churned above those that renewed: 0.5 is a coin toss, 1 is "
     "perfect.", [r"\bAUC\b"]),
    ("brier", "Brier score", "The average squared miss of a model's probabilities: lower is better; it is compared "
     "with always guessing the usual rate.", [r"\bBrier score\b"]),
    ("early-warning", "Early warning", "A signal that fires before a renewal (usage drop, health falling to red, a "
     "detractor response, a ticket spike); judged by how many churns it caught and how many renewals it flagged "
     "by mistake.", [r"\b[Ee]arly warnings?\b"]),
    ("nps", "NPS", "Net Promoter Score: the share of promoters (9-10) minus the share of detractors (0-6) among "
     "survey answers, from -100 to 100.", [r"\bNPS\b"]),
]

#: What the story's text never shows: the names of statistical tests and
#: models, q and p values, and configuration keys (``[analysis]``). The data
#: contract's table and column names stay: a note saying which table to
#: export is for the reader who acts on it. The rest belongs to the method,
#: so :func:`method_to_appendix` moves them, with the sentence or the
#: parenthesis that holds them, to the appendix's notes.
METHOD_TERMS = re.compile(
    r"Fisher|Kaplan-Meier|\bCox\b|Benjamini|Hochberg|log-rank|\bBrier\b|\bAUC\b|chi-square|Mann-Whitney|"
    r"\blogistic\b|Greenwood|\b[qp] ?(?:[<=>]|&lt;|&gt;) ?\d|\b[qp] values?\b|\balpha\b|"
    r"\[[a-z_]+(?:\.[a-z_]+)*\]")
#: A parenthesis without another inside it.
_PARENTHESIS = re.compile(r"\s*\(([^()]*)\)")
#: A sentence: up to a full stop, question or exclamation mark followed by a space or the end.
_SENTENCE = re.compile(r"[^.!?]*?(?:[.!?](?=\s|$)|$)")
#: Elements whose text stays where it is (their own rules apply, or they are not prose).
_KEEP = {"style", "script", "title", "summary", "table", "h1", "h2", "h3", "h4", "a", "button", "option",
         "textarea"}


def _method_text(text: str, notes: list[str], where: str) -> str:
    """``text`` (HTML text, entities escaped) without what
    :data:`METHOD_TERMS` matches: a parenthesis holding it, else the
    sentence, becomes note N of ``notes`` and a marker linking to it."""
    if not METHOD_TERMS.search(text):
        return text

    def note(content: str) -> str:
        notes.append(f"{where}: {content.strip()}")
        n = len(notes)
        return f'<sup class="vga-noteref"><a href="#method-{n}" id="method-ref-{n}">{n}</a></sup>'

    text = _PARENTHESIS.sub(lambda m: note(m.group(1)) if METHOD_TERMS.search(m.group(1)) else m.group(0), text)
    if not METHOD_TERMS.search(re.sub(r"<sup class=\"vga-noteref\">.*?</sup>", "", text)):
        return text
    out = []
    for piece in re.split(r"(<sup class=\"vga-noteref\">.*?</sup>)", text):
        if piece.startswith("<sup"):
            out.append(piece)
            continue
        for m in _SENTENCE.finditer(piece):
            sentence = m.group(0)
            out.append(note(sentence) if sentence.strip() and METHOD_TERMS.search(sentence) else sentence)
    return "".join(out)


def _text_runs(parts: list[str], skip: set[str], within: str | None = None):
    """The indexes of the text runs of ``parts`` (HTML split at its tags)
    that are not inside an element named in ``skip`` (and, with
    ``within``, inside that element): where prose may be rewritten."""
    stack: list[str] = []
    inside = within is None
    for i, part in enumerate(parts):
        if part.startswith("<"):
            tag = re.match(r"</?\s*([a-zA-Z0-9]+)", part)
            name = tag.group(1).lower() if tag else ""
            if within is not None and name == within:
                inside = not part.startswith("</")
            elif name in skip and not part.endswith("/>"):
                if part.startswith("</"):
                    if name in stack:
                        stack.remove(name)
                else:
                    stack.append(name)
            continue
        if inside and not stack and part.strip():
            yield i


def _cell_texts(row: str) -> list[str]:
    return [re.sub(r"<[^>]+>", " ", c) for c in re.findall(r"<t[hd]\b[^>]*>(.*?)</t[hd]>", row, flags=re.S)]


def _without_method_columns(table: str) -> str | None:
    """``table`` without the columns whose header names a method term (a
    q value, a test's statistic); None when its rows do not line up (a
    spanning cell), so that it is not cut wrongly."""
    if re.search(r"\b(?:col|row)span=", table):
        return None
    rows = re.findall(r"<tr\b.*?</tr>", table, flags=re.S)
    if not rows:
        return None
    header = _cell_texts(rows[0])
    drop = {i for i, text in enumerate(header) if METHOD_TERMS.search(text)}
    if not drop:
        return table
    if any(len(_cell_texts(r)) != len(header) for r in rows):
        return None

    def cut(row_match):
        row = row_match.group(0)
        cells = list(re.finditer(r"<t[hd]\b[^>]*>.*?</t[hd]>", row, flags=re.S))
        for i in sorted(drop, reverse=True):
            row = row[:cells[i].start()] + row[cells[i].end():]
        return row

    return re.sub(r"<tr\b.*?</tr>", cut, table, flags=re.S)


def _cells_without_method(table: str, notes: list[str], where: str) -> str:
    """Each cell's text without its method terms (:func:`_method_text`)."""
    return re.sub(r"(<t[hd]\b[^>]*>)(.*?)(</t[hd]>)",
                  lambda m: m.group(1) + "".join(
                      p if p.startswith("<") else _method_text(p, notes, where)
                      for p in re.split(r"(<[^>]+>)", m.group(2))) + m.group(3),
                  table, flags=re.S)


def finding_first(section: str) -> str:
    """A story section headed by its finding: its first finding in view
    (not folded) becomes its heading, and the step's name a line above it;
    a section without a finding keeps its heading."""
    folded = [(m.start(), m.end()) for m in re.finditer(r"<details\b.*?</details>", section, flags=re.S)]
    finding = next((m for m in re.finditer(r'<p class="vga-finding">(.*?)</p>', section, flags=re.S)
                    if not any(a <= m.start() < b for a, b in folded)), None)
    heading = re.search(r'<h1( id="[^"]*")?>(.*?)</h1>', section, flags=re.S)
    if finding is None or heading is None or heading.start() > finding.start():
        return section
    step = re.sub(r'<a class="anchor-link".*?</a>', "", heading.group(2), flags=re.S).strip()
    section = section[:finding.start()] + section[finding.end():]
    return (section[:heading.start()] + f'<div class="vga-kicker">{step}</div>'
            f'<h1{heading.group(1) or ""} class="vga-headline">{finding.group(1).strip()}</h1>'
            + section[heading.end():])


def method_to_appendix(section: str, where: str, notes: list[str]) -> str:
    """A story section with the method taken out (:data:`METHOD_TERMS`): a
    table loses the columns whose header names one (the full table is a
    note) and its cells are cleared as prose is, a parenthesis or sentence of prose holding a method term
    becomes a numbered note; ``notes`` gains them, in order, labelled with
    ``where`` (the section's title)."""
    def move_table(m):
        whole = m.group(0)
        if not METHOD_TERMS.search(re.sub(r"<[^>]+>", " ", whole)):
            return whole
        trimmed = _without_method_columns(whole)
        if trimmed is None:  # a table of another shape: it moves whole
            notes.append(f"{where}: {whole}")
            n = len(notes)
            return (f'<p class="vga-more" id="method-ref-{n}">The table with its statistics and codes is note '
                    f'<a href="#method-{n}">{n}</a> of the appendix.</p>')
        if trimmed != whole:  # the statistics' columns stay in the full table, in the appendix
            notes.append(f"{where}, the table in full: {whole}")
            n = len(notes)
            trimmed += (f'<p class="vga-more" id="method-ref-{n}">With its statistics: note '
                        f'<a href="#method-{n}">{n}</a> of the appendix.</p>')
        return _cells_without_method(trimmed, notes, where)

    section = re.sub(r"<table\b.*?</table>", move_table, section, flags=re.S)
    parts = re.split(r"(<[^>]+>)", section)
    for i in _text_runs(parts, _KEEP):
        part = parts[i]
        parts[i] = _method_text(part, notes, where)
    return "".join(parts)


def method_section(notes: list[str]) -> str:
    """The appendix's numbered notes: the statistics and settings behind the
    story's findings, folded (a mark's link opens them at its note) and
    left out of print; a table scrolls sideways on a phone."""
    def item(n: int, note: str) -> str:
        if "<table" in note:
            note = re.sub(r"(<table\b.*?</table>)", r'<div class="vga-scroll">\1</div>', note, flags=re.S)
        return f'<li id="method-{n}">{note} <a class="vga-more" href="#method-ref-{n}">back</a></li>'

    items = "".join(item(n, note) for n, note in enumerate(notes, start=1))
    return (f'<section class="vga-section vga-appendix" id="method"><h2>Statistics and settings behind the '
            f"findings</h2><p>The tests, models and settings each finding of the story rests on, numbered as "
            f'the marks in the text.</p><details class="vga-detail"><summary>The {len(notes)} notes</summary>'
            f'<ol class="vga-method">{items}</ol></details></section>')


#: What a section says instead of a long reason the report's first note gives.
SAID_ABOVE = "the data does not reach this far (see the first note of the report)"

_CELL = re.compile(r'<div class="cell border-box-sizing[^"]*" id="cell-id=([^"]+)">')


def _fold(body: str, nb) -> str:
    """Fold the cells tagged ``detail``: each run of them becomes one
    ``<details>`` whose summary lists the run's headings; the rest of the
    section (its findings) stays in view."""
    tags = {c.get("id"): set(c.get("metadata", {}).get("tags", [])) for c in nb.cells}
    heads = {c.get("id"): c.source.strip().splitlines()[0].lstrip("#").strip()
             for c in nb.cells if c.cell_type == "markdown" and c.source.strip().startswith("## ")}
    marks = list(_CELL.finditer(body))
    if not marks:
        return body
    out, run, titles = [body[:marks[0].start()]], [], []

    def close():
        if run:
            label = "More: " + "; ".join(titles) if titles else "More detail"
            out.append(f'<details class="vga-detail"><summary>{html.escape(label)}</summary>{"".join(run)}</details>')
            run.clear()
            titles.clear()

    for i, m in enumerate(marks):
        piece = body[m.start():marks[i + 1].start() if i + 1 < len(marks) else len(body)]
        if "detail" in tags.get(m.group(1), set()):
            run.append(piece)
            if m.group(1) in heads:
                titles.append(heads[m.group(1)])
        else:
            close()
            out.append(piece)
    close()
    return "".join(out)


#: Elements whose text never becomes a glossary link.
_NO_LINK = {"a", "style", "script", "title", "summary", "h1", "h2", "h3", "h4", "dt", "dd", "figcaption", "th",
            "button", "option", "textarea"}


def link_terms(page: str) -> str:
    """Link the first use of each glossary term in the sections' text to its
    entry (terms already linked, as on the first screen, are left alone)."""
    done = {slug for slug, *_ in GLOSSARY if f'href="#glossary-{slug}"' in page}
    patterns = [(slug, re.compile("|".join(words))) for slug, _, _, words in GLOSSARY if slug not in done]
    parts = re.split(r"(<[^>]+>)", page)
    for i in _text_runs(parts, _NO_LINK, within="main"):
        if not patterns:
            break
        part = parts[i]
        text = part
        for slug, pattern in list(patterns):
            m = pattern.search(text)
            if m:
                text = (f'{text[:m.start()]}<a class="vga-term" href="#glossary-{slug}">{m.group(0)}</a>'
                        f"{text[m.end():]}")
                patterns.remove((slug, pattern))
                break  # one link per text run: a link's own text is not searched again
        parts[i] = text
    return "".join(parts)


def glossary_section() -> str:
    """The glossary, one plain sentence per term, each with its anchor."""
    items = "".join(f'<div><dt id="glossary-{slug}">{html.escape(term)}</dt><dd>{html.escape(text)}</dd></div>'
                    for slug, term, text, _ in GLOSSARY)
    return (f'<section class="vga-section" id="glossary"><h2>Glossary</h2><p>Every figure follows the metric '
            f'definitions in the project\'s documentation; in one sentence each:</p><dl class="vga-glossary">{items}</dl>'
            "</section>")


#: Elements that run code, load or navigate by being there, whatever their attributes.
ACTIVE_ELEMENTS = {"script", "iframe", "frame", "frameset", "object", "embed", "applet", "base", "form", "link",
                   "portal", "noscript", "template"}


def network_references(text: str) -> list[str]:
    """Every place in an HTML page that would load something from the
    network, run code or leave the page: an element of
    :data:`ACTIVE_ELEMENTS` (``<script>``, ``<iframe>``, ``<base>``...), a
    ``<meta http-equiv>`` (a refresh navigates away), an event handler
    attribute (``onload=``), a tag attribute holding a URL other than an
    embedded ``data:`` one or an anchor, and CSS ``url(...)`` or ``@import``
    in a ``<style>`` element or a ``style`` attribute. Text is not looked
    at: data shown as text (escaped) loads nothing, whatever words it holds."""
    from html.parser import HTMLParser

    found: list[str] = []

    class Scan(HTMLParser):
        in_style = False

        def handle_starttag(self, tag, attrs):
            self.in_style = tag == "style"
            if tag in ACTIVE_ELEMENTS:
                found.append(f"<{tag}>")
            if tag == "meta" and any(name == "http-equiv" for name, _ in attrs):
                found.append("<meta http-equiv>")
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


#: What the notebooks' Markdown may become in the report (an allow-list): text,
#: headings, lists, tables, emphasis, code, links within the page and embedded images.
MARKDOWN_TAGS = {"a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "details", "div", "dl", "dt", "em", "h1",
                 "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "kbd", "li", "ol", "p", "pre", "s", "small", "span",
                 "strong", "sub", "summary", "sup", "table", "tbody", "td", "th", "thead", "tr", "ul"}
MARKDOWN_ATTRIBUTES = {"*": {"class", "id", "title"}, "a": {"href"}, "img": {"src", "alt"}, "td": {"align"},
                       "th": {"align"}, "ol": {"start"}}


def _page_url(tag: str, attribute: str, value: str) -> str | None:
    """Keep a URL only when it stays in the page: an anchor, an embedded image."""
    if attribute in ("href", "src"):
        url = value.strip().lower()
        return value if url.startswith("#") or (attribute == "src" and url.startswith("data:image/")) else None
    return value


def sanitise_markdown(rendered: str) -> str:
    """A Markdown cell's HTML through an allow-list (nh3): no script,
    style, meta refresh, base, frame, form or event handler, no link or
    image that leaves the page; the text stays."""
    import nh3

    return nh3.clean(rendered, tags=MARKDOWN_TAGS, attributes=MARKDOWN_ATTRIBUTES, url_schemes={"data"},
                     attribute_filter=_page_url, link_rel=None, strip_comments=True)


def _exporter():
    """nbconvert's HTML exporter, without code, its Markdown sanitised."""
    from jinja2 import pass_context
    from nbconvert import HTMLExporter

    class Sanitised(HTMLExporter):
        @pass_context
        def markdown2html(self, context, source):
            return sanitise_markdown(super().markdown2html(context, source))

    exporter = Sanitised(template_name="basic")
    exporter.exclude_input = True
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    exporter.exclude_raw = True  # a raw cell would reach the page unread
    return exporter


def build_report(notebooks: list[tuple[str, Path]], out: Path, *, title: str, subtitle: str,
                 warnings: list[str] = (), missing: list[str] = (), appendix: list[str] = (),
                 yours: list[str] = ()) -> Path:
    """Render executed notebooks into one self-contained HTML file.

    ``notebooks`` is a list of (section title, executed .ipynb path), in the
    order the reader should see them; ``missing`` names steps of the series
    that have no section (said at the top, not hidden); the sections titled
    in ``appendix`` (the method: programme, data) follow an "Appendix"
    heading after the story; those titled in ``yours`` are chapters of the
    analyst's own, marked so in the page and its contents (as are the
    cells tagged ``analyst`` in any chapter). Code is left out; images are
    embedded as data URIs; nothing is loaded from the network (checked).
    """
    exporter = _exporter()
    sections, toc, notes = [], [], []
    for i, (name, path) in enumerate(notebooks, start=1):
        mine = name in yours
        nb = _strip_for_report(nbformat.read(path, as_version=4), yours=mine)
        body, _ = exporter.from_notebook_node(nb)
        body = _fold(body, nb)
        body = _mark_analysts(body, nb) if not mine else _mark_yours(body)
        anchor = f"section-{i}"
        later = name in appendix
        first_later = later and not any('class="vga-toc-appendix"' in t for t in toc)
        if first_later:
            sections.append('<h2 class="vga-appendix-head" id="appendix">Appendix: how this analysis was run</h2>')
        mark = ' class="vga-toc-appendix"' if later else ' class="vga-toc-yours"' if mine else ""
        toc.append(f'<a href="#{anchor}"{mark}>{"Appendix: " if first_later else ""}{html.escape(name)}'
                   f'{" (analyst)" if mine else ""}</a>')
        if not later:
            body = method_to_appendix(body, name, notes)
            if i > 1 and not mine:  # the summary is headed by its own name; each section after it by its finding
                body = finding_first(body)
        kind = " vga-appendix" if later else " vga-yours" if mine else ""
        sections.append(f'<section class="vga-section{kind}" id="{anchor}">{body}</section>')
    if notes:
        if not appendix:
            sections.append('<h2 class="vga-appendix-head" id="appendix">Appendix: how this analysis was run</h2>')
        sections.append(method_section(notes))
        toc.append(f'<a href="#method" class="vga-toc-appendix">{"" if appendix else "Appendix: "}Statistics</a>')
    toc.append('<a href="#glossary">Glossary</a>')
    # A reason the banner already gives in full (the period past the data,
    # say) is pointed to in the sections, not repeated in every one of them.
    for warning in warnings:
        reason = warning.split(": ", 1)[1].rstrip(".") if ": " in warning else ""
        if len(reason) > 60:
            sections = [section.replace(html.escape(reason, quote=False), SAID_ABOVE)
                        .replace(html.escape(reason), SAID_ABOVE) for section in sections]
    notes = list(dict.fromkeys(warnings))  # each said once
    if missing:
        notes.append("Not part of this report: " + "; ".join(missing) + ".")
    banner = "".join(f'<div class="vga-note vga-warn">{html.escape(w)}</div>' for w in notes)
    if banner:
        # One line in view, the notes a click away: read them before acting on a number.
        said = f"{len(notes)} note{'s' if len(notes) > 1 else ''} on the data behind these figures: read before acting"
        banner = (f'<div class="vga-banner" role="alert"><details class="vga-note vga-warn vga-banner-notes">'
                  f"<summary>{html.escape(said)}</summary>{banner}</details></div>")
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    page = (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{html.escape(title)}</title>"
        f"<style>{CSS}</style></head><body>"
        f'<header class="vga-head"><h1>{html.escape(title)}</h1><div class="meta">{html.escape(subtitle)}</div></header>'
        f'<nav class="vga-toc">{"".join(toc)}</nav>{banner}<main>{"".join(sections)}{glossary_section()}</main>'
        f"<footer>Generated by vga on {stamp}. Figures follow the metric definitions of vga's documentation (docs/analysts/metrics.md).</footer>"
        "</body></html>\n"
    )
    page = BIDI_CONTROLS.sub("", page)  # no text of the data may reorder what a reader sees
    page = link_terms(page)
    found = network_references(page)
    if found:
        raise ReportError(f"the report would load from the network ({'; '.join(found[:3])}); it was not written, and "
                          "earlier reports are untouched")
    out.write_text(page, encoding="utf-8")
    return out
