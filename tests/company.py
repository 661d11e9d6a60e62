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
import json
import re
import shutil
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

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
            r = rng.random()
            after = 0.0 if r < shape.churn_share else value * (1.2 if r > 0.9 else 1.0)
            rows.append({"account_id": ids[i], "renewal_date": day.date().isoformat(), "arr_before": value,
                         "arr_after": after, "churn_reason": rng.choice(["price", "fit", ""]) if after == 0 else ""})
            value, day = after, day + pd.DateOffset(years=1)
    renewals = pd.DataFrame(rows, columns=["account_id", "renewal_date", "arr_before", "arr_after", "churn_reason"])
    accounts["renewal_date"] = ""
    accounts.to_csv(folder / "accounts.csv", index=False)
    renewals.to_csv(folder / "renewals.csv", index=False)

    span = (shape.as_of - start_of_history).days
    # Health scores every month for a random two thirds of the accounts.
    scored = ids[rng.random(n) < 0.67]
    months = pd.date_range(start_of_history, shape.as_of, freq="MS")
    health = pd.DataFrame([(a, m.date().isoformat(), round(float(rng.uniform(10, 100)), 1))
                           for a in scored for m in months[-12:]], columns=["account_id", "as_of", "score"])
    if len(health):
        health.to_csv(folder / "health_scores.csv", index=False)
    k = max(n // 2, 1)
    tickets = pd.DataFrame({"ticket_id": [f"T{i}" for i in range(k)], "account_id": rng.choice(ids, k),
                            "opened_at": _ts(rng.integers(span - 400, span, k), start_of_history).astype(str)})
    tickets.to_csv(folder / "support_tickets.csv", index=False)
    surveys = pd.DataFrame({"account_id": rng.choice(ids, k), "kind": "nps",
                            "responded_at": _ts(rng.integers(span - 400, span, k), start_of_history).astype(str),
                            "score": rng.integers(0, 11, k)})
    surveys.to_csv(folder / "surveys.csv", index=False)
    if shape.events_gap_days is not None:
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


def render_series(data_dir: Path, period: str, results: Path, config_path: Path | None = None) -> dict:
    """Every chapter of the series on ``data_dir``: step outputs computed once
    and written to ``results`` (read back as a run's notebooks read them),
    then each presenter call of each notebook. Returns
    ``{(notebook, presenter): text}`` and, under ``"_outputs"``, the outputs."""
    import importlib

    from bs4 import BeautifulSoup

    from vga import pipeline
    from vga.config import load_config
    from vga.load import load_folder, to_inputs
    from vga.notebook import View
    from vga.periods import parse_period
    from vga.present.blocks import set_currency
    from vga.steps import STEPS

    config = load_config(config_path, data_dir)
    p = parse_period(period)
    inputs = to_inputs(load_folder(data_dir, config))
    outputs, _ = pipeline.compute(inputs, p, config)
    shutil.rmtree(results, ignore_errors=True)
    results.mkdir(parents=True)
    pipeline.write(outputs, results)
    set_currency(config["report"]["currency"])
    texts: dict = {"_outputs": outputs}
    for step in STEPS.values():
        if not step.notebook:
            continue
        module, calls = _presenter_calls(ROOT / "notebooks" / f"{step.notebook}.ipynb")
        show = importlib.import_module(f"vga.present.{module}")
        settings = pipeline.step_settings(step, config) | {"analysis": config["analysis"]}
        names = [o.name for o in step.outputs] + list(step.shows)
        view = View(step, p, settings, {name: pipeline.read(results, name) for name in names}, "run")
        for call in calls:
            block = getattr(show, call)(view)
            html = block._repr_html_() if block is not None else ""
            texts[(step.notebook, call)] = " ".join(BeautifulSoup(html, "html.parser").get_text(" ").split())
    return texts


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
