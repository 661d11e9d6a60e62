"""The next four quarters: ARR up for renewal, the ARR the renewal model
expects to lose with a 95% interval, expected GRR over the next 12 months,
what the success-plan target is worth, and a backtest (the same forecast
made a year earlier against what happened). Shown only when the renewal
model is good enough to forecast; definitions in
:mod:`vga.analysis.forecast`."""

from __future__ import annotations

import pandas as pd

from ..outputs import (CHURNED_CUSTOMERS_JSON, DECISIONS_CSV, FORECAST_BACKTEST_CSV, FORECAST_CSV, FORECAST_JSON,
    MODEL_VALIDATION_JSON, QUADRANTS_CSV, RENEWAL_SCORES_CSV)
from ..analysis import forecast as fc
from ..analysis.decisions import add_point_in_time, decision_table
from ..analysis.models import RENEWAL_TERMS, fit_logit, predict, renewal_features, usable_terms, validate_out_of_time
from ..analysis.quadrant import health_color
from ..analysis.retention import arr_at, arr_for_pairs
from ..analysis.scores import scores_for_pairs, ticket_counts
from ..periods import one_year_before
from . import Context, Node, Output

LEAD = 90  # the renewal model's lead (vga.nodes.renewal_model): features 90 days before each decision
_COUNTS = ("active_accounts", "active_arr", "due_accounts", "due_arr", "undated_accounts", "undated_arr",
           "past_date_accounts", "past_date_arr", "later_accounts", "later_arr", "unscored_due_accounts")
_PLAN_COUNTS = ("base_accounts", "base_arr", "target_accounts", "moved_arr")


def _book(run: Context, scores: pd.DataFrame, quadrants: pd.DataFrame | None) -> pd.DataFrame:
    """The active accounts as of the as-of date: ARR, probability, next decision date, health colour."""
    accounts = run.inputs.table("accounts")
    arr = arr_at(accounts, run.inputs.table("renewals"), run.period.as_of)
    book = scores[["account_id", "next_decision_date", "renewal_probability"]].copy()
    book["account_id"] = book["account_id"].astype(str)
    book["arr"] = book["account_id"].map(arr.set_axis(arr.index.astype(str))).astype(float)
    colors = pd.Series(dtype=object)
    if quadrants is not None and len(quadrants) and "health_color" in quadrants.columns:
        known = quadrants.astype({"account_id": str}).drop_duplicates("account_id")
        colors = known.set_index("account_id")["health_color"]
    book["health_color"] = book["account_id"].map(colors).fillna("").astype(str)
    return book[book["arr"] > 0].reset_index(drop=True)


def _earlier_book(run: Context, day, decisions: pd.DataFrame) -> tuple[pd.DataFrame | None, dict | None, str | None]:
    """The backtest's book as of ``day``: the renewal model fitted as a run
    as of ``day`` would have (its own look-back), its out-of-time check,
    and each active account's probability, health colour and first
    decision after ``day``. (None, None, reason) where that cannot be done."""
    settings = run.settings
    months, per_term = int(settings.analysis.churn_lookback_months), int(settings.models.min_events_per_term)
    renewals = run.inputs.table("renewals")
    then = f"as of {day.isoformat()}"
    table = decision_table(renewals, day, months)
    if table.empty:
        return None, None, f"{then} the data holds no renewal decision in the look-back, so no model could be fitted"
    table = add_point_in_time(table, run.inputs, settings, leads=(LEAD,)).reset_index(drop=True)
    data = renewal_features(table, LEAD)
    data["kept"] = (table["outcome"] != "churned").astype(float)
    terms, note = usable_terms(data, list(RENEWAL_TERMS), "kept", per_term)
    if not terms:
        return None, None, f"{then}, {note}"
    validation = validate_out_of_time(data, "kept", terms, pd.to_datetime(table["decision_date"]),
                                      float(settings.models.test_share), per_term, event=0)
    validation["n_decisions"] = int(len(table))
    if validation.get("auc") is None:
        return None, validation, (f"{then} the model could not be checked on newer decisions "
                                  f"({validation.get('reason')}), so it would have forecast nothing")
    model, _, why = fit_logit(data, "kept", terms)
    if model is None:
        return None, validation, f"{then}, {why}"
    accounts = run.inputs.table("accounts")
    arr = arr_at(accounts, renewals, day)
    active = arr[arr > 0]
    if active.empty:
        return None, validation, f"no account was active {then}"
    pairs = pd.DataFrame({"account_id": active.index.astype(str), "day": pd.Timestamp(day)})
    now = scores_for_pairs(run.inputs, pairs, settings)
    now["arr"] = arr_for_pairs(accounts, renewals, pairs).to_numpy()
    now["tickets"] = ticket_counts(run.inputs, pairs, settings).to_numpy()
    book = pd.DataFrame({"account_id": pairs["account_id"].to_numpy(dtype=object), "arr": active.to_numpy(float),
                         "renewal_probability": predict(model, renewal_features(now, lead=None)),
                         "health_color": health_color(now["health_score"],
                                                      tuple(settings.analysis.health_colors)).to_numpy()})
    following = fc.next_decisions(decisions, day).set_index("account_id")
    for column in ("next_decision_date", "outcome", "arr_before"):
        book[column] = book["account_id"].map(following[column])
    book["next_decision_date"] = pd.to_datetime(book["next_decision_date"])
    return book, validation, None


def compute(run: Context, upstream: dict) -> dict:
    as_of = run.period.as_of
    plan = run.settings.interventions
    options = {"share": float(plan.target_share), "from_colors": tuple(plan.from_colors),
               "to_colors": tuple(plan.to_colors)}
    validation = upstream[MODEL_VALIDATION_JSON]
    scores = upstream[RENEWAL_SCORES_CSV]
    facts = {"as_of": as_of.isoformat(), "shown": False, "reason": None}
    empty = pd.DataFrame({"account_id": pd.Series(dtype=object), "arr": pd.Series(dtype=float),
                          "renewal_probability": pd.Series(dtype=float),
                          "next_decision_date": pd.Series(dtype="datetime64[ns]"),
                          "health_color": pd.Series(dtype=object)})
    book = empty if scores is None or scores.empty else _book(run, scores, upstream[QUADRANTS_CSV])
    table, found = fc.forecast(book, as_of, validation, **options)
    facts.update(found)
    if scores is None or scores.empty:  # no book to count: nothing reads as zero
        table = None
        facts.update({k: None for k in _COUNTS})
        facts["success_plan"].update({k: None for k in _PLAN_COUNTS})
        facts["reason"] = facts["success_plan"]["reason"] = (
            (validation or {}).get("reason") or "no active account was scored by the renewal model")
    elif book.empty:
        table = None
        facts["reason"] = facts["success_plan"]["reason"] = (
            f"no account has ARR above 0 on {as_of.isoformat()}, so none is up for renewal")

    # The backtest: the same forecast a year earlier, against the decisions that followed.
    backtest = None
    decisions = upstream[DECISIONS_CSV]
    earlier = one_year_before(as_of)
    why = upstream[CHURNED_CUSTOMERS_JSON].get("reason")
    if why:
        facts["backtest"] = {"as_of": earlier.isoformat(), "reason": why}
    elif decisions is None or decisions.empty:
        facts["backtest"] = {"as_of": earlier.isoformat(), "reason": "no renewal decision in the look-back window"}
    else:
        book, then, reason = _earlier_book(run, earlier, decisions)
        if book is None:
            facts["backtest"] = {"as_of": earlier.isoformat(), "reason": reason,
                                 "gate": {k: (then or {}).get(k) for k in ("auc", "brier", "brier_base_rate")}}
        else:
            backtest, found = fc.backtest_table(book, earlier, then, **options)
            found.pop("success_plan", None)
            found["shown_then"], found["reason_then"], found["reason"] = found.pop("shown"), found.pop("reason"), None
            found["n_decisions"] = then.get("n_decisions")
            decided = decisions.assign(decision_date=pd.to_datetime(decisions["decision_date"]))
            year = decided[(decided["decision_date"] > pd.Timestamp(earlier))
                           & (decided["decision_date"] <= pd.Timestamp(as_of)) & (decided["outcome"] == "churned")]
            found["churned_arr_all_decisions"] = float(year["arr_before"].astype(float).sum())
            found["churned_arr_not_forecast"] = found["churned_arr_all_decisions"] - found["actual_loss"]
            facts["backtest"] = found
    return {FORECAST_CSV: table, FORECAST_JSON: facts, FORECAST_BACKTEST_CSV: backtest}


NODE = Node(
    key="forecast", title="Forecast of the next four quarters", compute=compute,
    needs=("renewal_model", "churned_customers", "quadrant_view"),
    outputs=(
        Output(FORECAST_CSV, "per quarter of the next four: accounts and ARR up for renewal, the ARR the renewal "
                             "model expects lost with its 95% interval, and the red and yellow share of it (model "
                             "figures empty when the model is too weak to forecast)",
               {c: fc.COLUMN_TYPES[c] for c in fc.FORECAST_COLUMNS}, optional=True),
        Output(FORECAST_JSON, "whether the forecast is shown and why not, the AUC and Brier scores it was judged on, "
                              "the totals, expected GRR over 12 months with its interval, the success-plan value "
                              "and its assumption, and the backtest's totals"),
        Output(FORECAST_BACKTEST_CSV, "the same forecast made a year earlier, per quarter, against the ARR that "
                                      "churned at those decisions and whether it fell in the interval",
               {c: fc.COLUMN_TYPES[c] for c in fc.BACKTEST_COLUMNS}, optional=True),
    ),
)
