"""Companies that are not the sample: data folders of any shape, for tests.

:func:`write_company` writes a data folder in the contract from a
:class:`Shape`: a number of accounts, segments, a share of accounts that
never paid, a churn share from none to all, events that end some days
before the as-of date (or none), and snapshot exports (one row per
customer: scores in ``accounts``, every decision on one date). It is
independent of :mod:`vga.sample` on purpose: the sample is one company of
many, and these shapes are the others.

:func:`render_series` runs every step once and calls every presenter each
notebook of the series calls, in this process (what a run's notebooks do,
without kernels), returning each chapter's text; :func:`untrue_figures`
names text that shows a figure computed from no data.
"""

from __future__ import annotations

import ast
import csv
import io
import json
import os
import re
import shutil
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from vga.contract import TABLES

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Shape:
    accounts: int = 120
    segments: int = 3
    zero_arr_share: float = 0.0  # accounts that never paid (ARR 0, no paid renewal)
    churn_share: float = 0.2  # of renewal decisions, the share that churn
    events_gap_days: int | None = 0  # events end this many days before the as-of date; None: no events
    as_of: date = date(2026, 6, 30)
    snapshot: bool = False  # one row per customer: scores in accounts, every decision on the as-of date
    years: int = 3  # history before the as-of date
    seed: int = 1
    run_days_after: int = 0  # the run is this many days after the data's as-of date (a period past the data)
    cancellations_only: bool = False  # the renewals export keeps only the rows that take ARR to 0
    blank_share: float = 0.0  # accounts with no segment recorded; they never churn (a planted unknown group)
    scores: bool = True  # health scores and product events given (False: nothing can be scored)
    tickets: bool = True  # a support_tickets table given
    segment: bool = True  # a segment column given
    first_segment_churn: float | None = None  # the first segment's churn share (a planted slice gap)
    agent_values: int = 0  # an extra slicing column `agent` of this many values, sizes falling as 1/rank
    cox_max_groups: int | None = None  # written to the folder's vga.toml with the agent column

    @property
    def period(self) -> str:
        return (self.as_of + timedelta(days=self.run_days_after)).isoformat()


def _ts(days: np.ndarray, start: date) -> pd.Series:
    return pd.Series(pd.to_datetime(start) + pd.to_timedelta(days, unit="D"))


def write_company(shape: Shape, folder: Path) -> Path:
    """Write the data folder of ``shape`` to ``folder`` (CSV, events as Parquet)."""
    rng = np.random.default_rng(shape.seed)
    folder.mkdir(parents=True, exist_ok=True)
    n = shape.accounts
    ids = np.array([f"C{i:05d}" for i in range(n)])
    segment_names = ["Alpha", "Beta", "Gamma", "Delta", "Epsilon", "Zeta"][: shape.segments]
    never_paid = rng.random(n) < shape.zero_arr_share
    # Drawn only when asked for, so that every other company's numbers stay as they were.
    blank = rng.random(n) < shape.blank_share if shape.blank_share else np.zeros(n, dtype=bool)
    arr = np.where(never_paid, 0.0, rng.choice([6000.0, 12000.0, 24000.0, 60000.0], n))
    start_of_history = shape.as_of - timedelta(days=365 * shape.years)
    accounts = pd.DataFrame({
        "account_id": ids,
        "account_name": [f"Company {i}" for i in range(n)],
        "arr": arr,
        "segment": rng.choice(segment_names, n),
        "csm": rng.choice(["Ann", "Bo", "Cy"], n),
    })
    if shape.snapshot:
        accounts["health_score"] = np.round(rng.uniform(0, 100, n), 1)
        accounts["usage_score"] = np.round(rng.uniform(0, 100, n), 1)
        churned = (rng.random(n) < shape.churn_share) & ~never_paid
        renewals = pd.DataFrame({
            "account_id": ids[~never_paid], "renewal_date": shape.as_of.isoformat(),
            "arr_before": arr[~never_paid], "arr_after": np.where(churned[~never_paid], 0.0, arr[~never_paid]),
        })
        accounts.to_csv(folder / "accounts.csv", index=False)
        renewals.to_csv(folder / "renewals.csv", index=False)
        return folder

    offset = rng.integers(0, 365 * shape.years, n)
    starts = _ts(offset, start_of_history)
    accounts["contract_start"] = starts.dt.date.astype(str)
    # Yearly renewal decisions on each contract anniversary up to the as-of date.
    rows = []
    for i in np.flatnonzero(~never_paid):
        value, day = arr[i], starts.iloc[i] + pd.DateOffset(years=1)
        while day.date() <= shape.as_of and value > 0:
            r = 1.0 if blank[i] else rng.random()  # accounts with no segment renew flat or grow
            share = shape.churn_share
            if shape.first_segment_churn is not None and accounts.at[i, "segment"] == segment_names[0]:
                share = shape.first_segment_churn
            after = 0.0 if r < share else value * (1.2 if r > 0.9 else 1.0)
            rows.append({"account_id": ids[i], "renewal_date": day.date().isoformat(), "arr_before": value,
                         "arr_after": after, "churn_reason": rng.choice(["price", "fit", ""]) if after == 0 else ""})
            value, day = after, day + pd.DateOffset(years=1)
    renewals = pd.DataFrame(rows, columns=["account_id", "renewal_date", "arr_before", "arr_after", "churn_reason"])
    if shape.cancellations_only:
        renewals = renewals[renewals["arr_after"] == 0]
    accounts["renewal_date"] = ""
    accounts.loc[blank, "segment"] = ""
    if shape.agent_values:
        # Drawn from a stream of its own: every other column stays as it was.
        weights = 1.0 / np.arange(1, shape.agent_values + 1)
        agents = np.random.default_rng(shape.seed + 7919).choice(shape.agent_values, n, p=weights / weights.sum())
        accounts["agent"] = [f"agent {a:04d}" for a in agents]
        toml = '[analysis]\nslicing_dimensions = ["agent"]\n'
        if shape.cox_max_groups:
            toml += f"cox_max_groups = {shape.cox_max_groups}\n"
        (folder / "vga.toml").write_text(toml)
    if not shape.segment:
        accounts = accounts.drop(columns=["segment"])
    accounts.to_csv(folder / "accounts.csv", index=False)
    renewals.to_csv(folder / "renewals.csv", index=False)

    span = (shape.as_of - start_of_history).days
    # Health scores every month for a random two thirds of the accounts.
    scored = ids[rng.random(n) < 0.67]
    months = pd.date_range(start_of_history, shape.as_of, freq="MS")
    health = pd.DataFrame([(a, m.date().isoformat(), round(float(rng.uniform(10, 100)), 1))
                           for a in scored for m in months[-12:]], columns=["account_id", "as_of", "score"])
    if len(health) and shape.scores:
        health.to_csv(folder / "health_scores.csv", index=False)
    k = max(n // 2, 1)
    tickets = pd.DataFrame({"ticket_id": [f"T{i}" for i in range(k)], "account_id": rng.choice(ids, k),
                            "opened_at": _ts(rng.integers(span - 400, span, k), start_of_history).astype(str)})
    if shape.tickets:
        tickets.to_csv(folder / "support_tickets.csv", index=False)
    surveys = pd.DataFrame({"account_id": rng.choice(ids, k), "kind": "nps",
                            "responded_at": _ts(rng.integers(span - 400, span, k), start_of_history).astype(str),
                            "score": rng.integers(0, 11, k)})
    surveys.to_csv(folder / "surveys.csv", index=False)
    if shape.events_gap_days is not None and shape.scores:
        end = shape.as_of - timedelta(days=shape.events_gap_days)
        users = ids[rng.random(n) < 0.6]  # the others are silent
        m = 40 * max(len(users), 1)
        days = rng.integers(0, 200, m)
        stamps = pd.Series(pd.to_datetime(end) - pd.to_timedelta(days, unit="D")
                           + pd.to_timedelta(rng.integers(0, 86399, m), unit="s"))
        if len(users):
            events = pd.DataFrame({"timestamp": stamps.astype(str), "account_id": rng.choice(users, m),
                                   "user_id": [f"u{j}" for j in rng.integers(0, 50, m)],
                                   "feature": rng.choice(["view", "export", "share", "alert"], m)})
            (folder / "usage_events").mkdir(exist_ok=True)
            events.to_parquet(folder / "usage_events" / "events.parquet", index=False)
    return folder


# --------------------------------------------------------------------------
# The series in this process


def _presenter_calls(notebook: Path) -> tuple[str, list[str]]:
    """(presenter module, presenter names in order) that ``notebook`` calls."""
    nb = json.loads(notebook.read_text())
    module, calls = "", []
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        src = "".join(cell["source"])
        found = re.search(r"from vga\.present import (\w+) as show", src)
        if found:
            module = found.group(1)
        for node in ast.walk(ast.parse(src)):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and isinstance(node.func.value, ast.Name) and node.func.value.id == "show"):
                calls.append(node.func.attr)
    return module, calls


class _Reading:
    """A run's inputs that note what a step reads: the tables it asks for
    (``table``, ``has``, ``events``) and the facts about them."""

    FACTS = {"sources": "_sources", "reasons": "_reasons", "identity": "_identity", "quality": "_quality",
             "previous_quadrants": "_previous", "churn_labels": "_labels", "monthly_usage": "usage_events",
             "events": "usage_events", "tables": "_all"}

    def __init__(self, inputs):
        self._inputs, self.read = inputs, set()

    def table(self, name, needs=()):
        self.read.add(name)
        return self._inputs.table(name, needs)

    def lacks(self, name, needs=()):
        self.read.add(name)
        return self._inputs.lacks(name, needs)

    def has(self, name):
        self.read.add(name)
        return self._inputs.has(name)

    def __getattr__(self, attr):
        self.read.add(self.FACTS.get(attr, "_all"))
        return getattr(self._inputs, attr)


def _same(a, b) -> bool:
    """Equal values: frames cell for cell (as text, so NaN equals NaN), dicts
    and lists element for element."""
    if isinstance(a, pd.DataFrame) or isinstance(b, pd.DataFrame):
        return isinstance(a, pd.DataFrame) and isinstance(b, pd.DataFrame) and a.shape == b.shape \
            and list(a.columns) == list(b.columns) and a.astype(str).equals(b.astype(str))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and isinstance(b, float) and a != a and b != b:
        return True
    return a == b


class InProcessSeries:
    """The series of a period run in this process, for many data folders.

    The first folder given to :meth:`run` is the base: every step runs, and
    what each step reads (tables, the facts about them) is noted. Each later
    folder runs only the steps that read something that differs from the
    base, and the steps that need them, on the base's other outputs: a step
    is a pure function of what it reads. Then every presenter call of every
    notebook whose outputs were computed runs, on the outputs read back from
    ``results/`` as a run's notebooks read them. :meth:`run` returns
    ``{(notebook, presenter): text}``; :attr:`outputs` and :attr:`inputs`
    hold the last folder's. ``figures=False`` keeps plotting but skips
    encoding each figure as a PNG, the slowest part of presenting.
    """

    def __init__(self, period: str, work: Path, config_path: Path | None = None, figures: bool = True):
        self.period, self.work, self.config_path, self.figures = period, work, config_path, figures
        self.store_root = work / "store"
        self.base = None  # (inputs, outputs, what each step read)
        self.inputs = None
        self.outputs: dict = {}
        self.last_changed: set = set()
        self.last_redo: set = set()

    @staticmethod
    def _items(inputs) -> dict:
        out = {name: inputs.table(name) for name in inputs.tables}
        out.update(_sources=inputs.sources.drop(columns=["source"], errors="ignore"), _reasons=inputs.reasons,
                   _identity=inputs.identity, _previous=inputs.previous_quadrants, _labels=inputs.churn_labels)
        # Validated events are kept in the store by content: the same parts are the same events.
        out["usage_events"] = None if inputs.events is None else [str(p) for p in inputs.events.path]
        return out

    @staticmethod
    def _same_elsewhere(before: pd.DataFrame, now: pd.DataFrame, changed: set, as_of) -> bool:
        """Whether the facts about the tables that did not change are the
        same, and so are the data's end and shape: then only the steps that
        read a changed table (or the row counts) need running again."""
        from vga.analysis.coverage import assess

        def rest(frame):
            return frame[~frame["table"].isin(changed)].reset_index(drop=True)

        a, b = assess(before, as_of), assess(now, as_of)
        return _same(rest(before), rest(now)) and (a.data_end, a.snapshot) == (b.data_end, b.snapshot)

    def run(self, data_dir: Path) -> dict:
        from vga.run import pipeline
        from vga.config import load_config
        from vga.load import load_folder, to_inputs
        from vga.load.store import EventStore
        from vga.periods import parse_period
        from vga.nodes import NODES, order

        config = load_config(self.config_path, data_dir)
        p = parse_period(self.period)
        inputs = to_inputs(load_folder(data_dir, config, store=EventStore(self.store_root)))
        if self.base is None:
            changed, base_outputs, read = {"_all"}, {}, {}
        else:
            base_inputs, base_outputs, read = self.base
            before, now = self._items(base_inputs), self._items(inputs)
            changed = {k for k in set(before) | set(now) if not _same(before.get(k), now.get(k))}
            if "_sources" in changed:
                changed |= {"_quality"}  # row counts: read whole (data gathering, the summary)
                if self._same_elsewhere(before["_sources"], now["_sources"], changed, p.as_of):
                    changed.discard("_sources")
        # In step order: a step runs again when it reads an input that changed, or
        # when an output it takes changed in value; the chapters presented again
        # are those showing an output that changed in value.
        outputs, seen, redo, different = dict(base_outputs), dict(read), set(), set()
        for node in order():
            takes = {o.name for need in node.needs for o in NODES[need].outputs}
            if not ("_all" in changed or read.get(node.key, {"_all"}) & (changed | {"_all"}) or takes & different):
                continue
            redo.add(node.key)
            reading = _Reading(inputs)
            result = node.compute(pipeline.context(reading, p, config), {n: outputs[n] for n in takes})
            different |= {n for n, value in result.items() if n not in base_outputs or not _same(value, base_outputs[n])}
            outputs.update(result)
            seen[node.key] = reading.read
        if self.base is None:
            self.base = (inputs, outputs, seen)
        self.inputs, self.outputs, self.last_changed, self.last_redo = inputs, outputs, changed, redo
        results = self.work / "results"
        shutil.rmtree(results, ignore_errors=True)
        results.mkdir(parents=True)
        pipeline.write(outputs, results)
        recomputed = different
        return self._present(config, p, results, recomputed)

    def _present(self, config, p, results: Path, recomputed: set) -> dict:
        import importlib

        from bs4 import BeautifulSoup

        from vga.run import pipeline
        from vga.notebook import View, shown_outputs
        from vga.present import blocks, chapters
        from vga.present.blocks import set_currency

        set_currency(config["report"]["currency"])
        texts: dict = {}

        for chapter in chapters().values():
            names = shown_outputs(chapter)
            if not recomputed & set(names):
                continue
            module, calls = _presenter_calls(ROOT / "notebooks" / f"{chapter.notebook}.ipynb")
            show = importlib.import_module(f"vga.present.{module}")
            view = View(chapter, p, config, {name: pipeline.read(results, name) for name in names}, "run")
            # The presenters' module is shared with the other tests: its figure is put back afterwards.
            original = getattr(show, "figure", None)
            if original is not None:
                show.figure = blocks.figure if self.figures else _figure_unencoded
            try:
                for call in calls:
                    block = getattr(show, call)(view)
                    html = block._repr_html_() if block is not None else ""
                    texts[(chapter.notebook, call)] = " ".join(BeautifulSoup(html, "html.parser").get_text(" ").split())
            finally:
                if original is not None:
                    show.figure = original
        return texts


def _figure_unencoded(fig, alt, caption: str = ""):
    """:func:`vga.present.blocks.figure` without the PNG: each figure (one,
    or a list of small multiples with a list of alt texts) is laid out
    (``draw_without_rendering``: limits, ticks, text, as the real one does
    through :func:`vga.present.plots.fit`)."""
    from vga.present import plots
    from vga.present.blocks import Html

    figures = list(fig) if isinstance(fig, (list, tuple)) else [fig]
    alts = list(alt) if isinstance(alt, (list, tuple)) else [alt]
    assert len(figures) == len(alts), f"{len(figures)} figures, {len(alts)} alt texts"
    for one in figures:
        plots.fit(one)
    images = "".join(f'<img alt="{a}">' for a in alts)
    return Html(f'<figure class="vga-figure">{images}<figcaption>{caption}</figcaption></figure>')


def render_series(data_dir: Path, period: str, results: Path, config_path: Path | None = None) -> dict:
    """Every chapter of the series on ``data_dir`` (:class:`InProcessSeries`,
    once); the step outputs under ``"_outputs"``."""
    series = InProcessSeries(period, results, config_path)
    texts = series.run(data_dir)
    texts["_outputs"] = series.outputs
    return texts


#: Presenters that say nothing when there is nothing to say: notes before a
#: chapter's first section (warnings, tables not given), not sections.
QUIET_WHEN_WELL = {("11_executive_summary", "warnings"), ("04_renewed_customers", "missing_inputs")}


def empty_sections(texts: dict) -> list:
    """The presenter calls that showed nothing at all (neither findings nor a reason)."""
    return [key for key, text in texts.items()
            if key != "_outputs" and not text.strip() and tuple(key) not in QUIET_WHEN_WELL]


#: Text that shows a figure computed from nothing.
UNTRUE = [
    (re.compile(r"\b(nan|NaN|inf|NaT)\b|\bNone\b(?! of)"), "a missing value printed as a word"),
    (re.compile(r"\b0\.0% of the accounts that later churned, but also 0\.0%"), "a warning rate over no data"),
    (re.compile(r"(\d+(?:\.\d+)?) against \1\b.*q = 1\.000"), "a comparison of two equal figures from no data"),
    (re.compile(r"0\.00 tickets each against 0\.00"), "ticket counts from no tickets"),
    (re.compile(r"->\s*[\d.]+% since|→\s*[\d.]+% since"), "a change since a previous period"),
]


def untrue_figures(texts: dict, *, previous_has_data: bool) -> list[str]:
    """The chapters' texts that print a figure computed from no data."""
    found = []
    for key, text in texts.items():
        if key == "_outputs":
            continue
        for pattern, what in UNTRUE:
            if pattern is UNTRUE[4][0] and previous_has_data:
                continue
            hit = pattern.search(text)
            if hit:
                found.append(f"{key}: {what}: ...{text[max(0, hit.start() - 80):hit.end() + 40]}...")
    return found


# --------------------------------------------------------------------------
# Variants of the sample: a column or a table taken out


def table_file(folder: Path, table: str) -> Path | None:
    for path in sorted(folder.iterdir()):
        if path.name == table or path.name.split(".")[0] == table:
            return path
    return None


def _drop_from_csv(path: Path, columns: set[str], blank: bool = False) -> None:
    text = path.read_bytes().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    hit = {i for i, name in enumerate(rows[0]) if name.strip() in columns}
    if blank:
        rows = [rows[0]] + [[("" if i in hit else v) for i, v in enumerate(row)] for row in rows[1:]]
    else:
        rows = [[v for i, v in enumerate(row) if i not in hit] for row in rows]
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator="\n").writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8")


def _drop_from_parquet(path: Path, columns: set[str], blank: bool = False) -> None:
    import pyarrow as pa

    table = pq.read_table(path)
    for name in [c for c in table.column_names if c in columns]:
        i = table.column_names.index(name)
        table = (table.set_column(i, name, pa.nulls(len(table), table.schema.field(name).type)) if blank
                 else table.remove_column(i))
    pq.write_table(table, path)


def _drop_from_workbook(path: Path, columns: set[str], blank: bool = False) -> None:
    frame = pd.read_excel(path, dtype=str, keep_default_na=False)
    hit = [c for c in frame.columns if c in columns]
    (frame.assign(**{c: "" for c in hit}) if blank else frame.drop(columns=hit)).to_excel(path, index=False)


def variant(base: Path, folder: Path, drop: dict[str, set[str] | None], blank: bool = False) -> Path:
    """``base`` with, per table of ``drop``, those columns taken out (None:
    the whole table), or with ``blank`` kept but emptied in every row.
    Unchanged files are hard links: a variant costs what it changes."""
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(base, folder, copy_function=os.link)
    for table, columns in drop.items():
        path = table_file(folder, table)
        if path is None:
            continue
        if columns is None:
            shutil.rmtree(path) if path.is_dir() else path.unlink()
            continue
        for part in sorted(path.glob("*.parquet")) if path.is_dir() else [path]:
            part.unlink()  # a hard link: write a file of its own
            shutil.copy2(base / part.relative_to(folder), part)
            {".csv": _drop_from_csv, ".parquet": _drop_from_parquet, ".xlsx": _drop_from_workbook}[part.suffix](
                part, columns, blank)
    return folder


def optional_columns(base: Path) -> list[tuple[str, str]]:
    """(table, column) for every optional contract column the sample has."""
    from vga.load import load_folder

    loaded = load_folder(base)
    found = []
    for name, spec in TABLES.items():
        if name not in loaded.tables:
            continue
        present = set(loaded.tables[name].accepted.columns)
        if name == "usage_events":
            present = set(pq.read_schema(next((base / "usage_events").glob("*.parquet"))).names)
        optional = [c.name for c in spec.columns if not c.required]
        if spec.component_prefix:
            optional += sorted(c for c in present if c.startswith(spec.component_prefix))
        found += [(name, c) for c in optional if c in present]
    return found


def says_something(texts: dict, label: str) -> None:
    """Every section shows findings or its reason, and no figure from nothing."""
    empty = empty_sections(texts)
    assert not empty, f"{label}: sections with nothing in them: {empty}"
    untrue = untrue_figures(texts, previous_has_data=True)
    assert not untrue, f"{label}: " + "\n".join(untrue)


# --------------------------------------------------------------------------
# The story: sentences held to the standard of the figures

#: Sentences of the forms a report must never carry, whatever the company:
#: each was once written on real exports (issue 33) and misled.
STORY_UNTRUE = [
    (re.compile(r"100\.0% of the [\d,]+ renewal decisions .* were decisions to leave"),
     "a share of decisions to leave from an export of cancellations only"),
    (re.compile(r"loses most at [^:]*Renewal[^.]*share of renewal decisions churned 100\.0%"),
     "a renewal stage lost in full from an export of cancellations only"),
    (re.compile(r"The thinnest source is renewals: 0\.0% of ARR"), "renewals as 'thinnest' from cancellations only"),
    (re.compile(r"\b0 active accounts holding 0\b"), "a quadrant of no account written as a finding"),
    (re.compile(r"against [\d.]+% for the rest\b"), "a slice compared with a rest that holds its unknowns"),
    (re.compile(r"from 0 (ratings|survey responses)"), "a chart drawn from no response"),
    (re.compile(r"together put .{1,40} at risk \(they can overlap\)"), "a total that counts accounts twice"),
    (re.compile(r"costliest churn reason[^']*'\(not given\)'"), "a blank churn reason ranked as a reason"),
]


def _points_and_interval(text: str) -> list[str]:
    """Differences in points printed with an interval in another unit (the
    interval must hold the difference: "+8.1 pts, 95% interval 0.0 to +0.1")."""
    bad = []
    for m in re.finditer(r"([+-]?\d+(?:\.\d+)?) (?:pts|points), 95% interval ([+-]?\d+(?:\.\d+)?) to ([+-]?\d+(?:\.\d+)?)",
                         text):
        value, low, high = (float(g) for g in m.groups())
        if not low - 0.05 <= value <= high + 0.05:
            bad.append(m.group(0))
    return bad


def _money(text: str) -> float:
    """'2.66M' -> 2660000.0 (no currency code)."""
    text = text.replace(",", "")
    scale = {"B": 1e9, "M": 1e6, "k": 1e3}.get(text[-1], 1.0)
    return float(text[:-1] if text[-1] in "BMk" else text) * scale


def readdable(text: str) -> list[str]:
    """Every "ARR exposed A x B points ... = C" of ``text`` whose factors, as
    printed, multiplied, do not give C to its shown rounding (within half
    its last digit)."""
    bad = []
    for m in re.finditer(r"ARR exposed (?:[A-Z]{3} )?([\d.,]+[BMk]?) x ([\d.]+) points[^=]*= (?:[A-Z]{3} )?([\d.,]+)([BMk]?)",
                         text):
        product = _money(m.group(1)) * float(m.group(2)) / 100
        unit = {"B": 1e9, "M": 1e6, "k": 1e3}.get(m.group(4), 1.0)
        shown = float(m.group(3).replace(",", "")) * unit
        step = unit * (0.1 if m.group(4) else 1.0)
        if abs(product - shown) > step / 2 + 1e-9:
            bad.append(m.group(0))
    return bad


def story_problems(texts: dict, outputs: dict) -> list[str]:
    """What a rendered series says that its figures do not bear out: the
    forms of :data:`STORY_UNTRUE`, intervals that miss their difference,
    money that does not re-add, Do first items whose money may be zero,
    slices whose rest holds unknown values."""
    from vga.analysis.slicing import is_unknown

    found = []
    for key, text in texts.items():
        if key == "_outputs":
            continue
        for pattern, what in STORY_UNTRUE:
            hit = pattern.search(text)
            if hit:
                found.append(f"{key}: {what}: ...{text[max(0, hit.start() - 60):hit.end() + 40]}...")
        found += [f"{key}: an interval that does not hold its difference: {b}" for b in _points_and_interval(text)]
        found += [f"{key}: money that does not re-add: {b}" for b in readdable(text)]
    summary = outputs.get("summary.json") or {}
    for item in summary.get("do_first") or []:
        low = item.get("money_at_risk_low")
        if not (low is not None and low == low and low > 0):
            found.append(f"Do first with money that may be zero: {item['gap']} (interval from {low})")
        if item.get("confidence") == "high" and not (low is not None and low > 0):
            found.append(f"high confidence with an interval across 0: {item['gap']}")
    slices = outputs.get("slices.csv")
    if slices is not None and len(slices):
        cohort = len(outputs["cohort.csv"])
        for r in slices.itertuples():
            if is_unknown(r.value):
                if r.known_flagged:
                    found.append(f"an unknown value flagged against the known ones: {r.dimension}={r.value}")
                continue
            if r.accounts + r.known_rest_accounts + r.unknown_accounts != cohort:
                found.append(f"{r.dimension}={r.value}: the known rest does not leave out exactly the unknowns")
    if not (summary.get("do_first") or []) and summary.get("do_first_total") and summary["do_first_total"].get("gaps"):
        found.append("a Do first total without a Do first item")
    return found


#: Words that say whom a churn share counts.
POPULATION_WORDS = ("account", "decision", "subject", "cohort", "customer", "Champions", "of its", "other", "member",
                    "renewal", "slice", "quadrant")


def miscited(text: str, figures) -> list[str]:
    """Places where ``text`` cites a named figure (:data:`vga.analysis.figures.CITED_AS`)
    with a value other than the registry's: one name, one value."""
    from vga.analysis.figures import CITED_AS, cite
    from vga.present.blocks import pct

    bad = []
    for name, patterns in CITED_AS.items():
        record = cite(figures, name)
        for pattern in patterns:
            for m in re.finditer(pattern.format(value=r"(<?-?\d+(?:\.\d+)?%)"), text):
                if record is None:
                    bad.append(f"{name} cited, yet the registry has no such figure: {m.group(0)}")
                elif m.group(1) != pct(record["value"]):
                    bad.append(f"{name} is {pct(record['value'])} in the registry, {m.group(1)} here: {m.group(0)}")
    return bad


def churn_without_population(text: str) -> list[str]:
    """Sentences that print a churn percentage without saying whom it counts."""
    bad = []
    for sentence in re.split(r"(?<=[.!?])\s+", text):
        if re.search(r"churn", sentence, re.I) and re.search(r"\d%", sentence) \
                and not any(w in sentence for w in POPULATION_WORDS):
            bad.append(sentence)
    return bad
