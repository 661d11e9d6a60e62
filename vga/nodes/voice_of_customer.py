"""Step 6, voice of the customer: NPS and CSAT (level and trend), support
load, open backlog and its age, escalations, and interview themes weighted
by ARR. Definitions in :mod:`vga.analysis.voice`.

Survey comments and interview notes are free text that may hold personal
data: no output carries them, only counts and theme tags.
"""

from __future__ import annotations

from ..outputs import (QUADRANTS_CSV, SUPPORT_LOAD_CSV, THEMES_CSV, VOICE_BY_QUADRANT_CSV, VOICE_OF_CUSTOMER_JSON,
    VOICE_TREND_CSV)
from ..analysis import voice as v
from . import Context, Node, Output

#: The tables this step reads besides accounts and renewals, and what each adds.
VOICE_TABLES = {
    "surveys": "NPS and CSAT (surveys of kind nps and csat)",
    "support_tickets": "support load, the open backlog, escalations and ticket CSAT",
    "interviews": "themes from churn interviews and other evidence, weighted by ARR",
    "touchpoints": "the sentiment recorded at CSM contacts",
}
ARR_BASIS = ("ARR at the as-of date; for an account that churned on or before it, the ARR it had just before "
             "it left (arr_before of its churn row in renewals)")


def _missing(table: str) -> str:
    return f"no {table} table was given"


def compute(run: Context, upstream: dict) -> dict:
    """Levels over the retention window, the previous window and the change;
    the quarterly trend; support load, backlog and escalations; themes. Where
    a table is missing, or the data ends before the as-of date, the figures
    are null and ``reasons`` says why."""
    coverage = run.coverage
    accounts, renewals = run.inputs.table("accounts"), run.inputs.table("renewals")
    surveys, tickets = run.inputs.table("surveys"), run.inputs.table("support_tickets")
    interviews, touchpoints = run.inputs.table("interviews"), run.inputs.table("touchpoints")
    previous = v.previous_window(run.period)
    facts: dict = {
        "as_of": run.period.as_of.isoformat(), "window_start": run.period.window_start.isoformat(),
        "previous_period": run.period.previous_label,
        "previous_window": {"start": previous[0].isoformat(), "end": previous[1].isoformat()},
        "covered": coverage.covers_as_of, "reason": coverage.reason,
        "stale_sources": [{"table": t, "last_date": d.isoformat()} for t, d in coverage.stale if t in VOICE_TABLES],
        "tables_given": {t: run.inputs.has(t) for t in VOICE_TABLES},
        "arr_basis": ARR_BASIS, "reasons": {},
        "nps": None, "csat": None, "other_surveys": None, "support": None, "backlog": None, "escalations": None,
        "touchpoints": None, "themes": None, "comments": None,
    }
    reasons = facts["reasons"]
    trend = v.quarter_trend(surveys, tickets, touchpoints, run.period.as_of)
    out = {VOICE_OF_CUSTOMER_JSON: facts, VOICE_TREND_CSV: trend if len(trend) else None,
           THEMES_CSV: None, SUPPORT_LOAD_CSV: None, VOICE_BY_QUADRANT_CSV: None}
    if not coverage.covers_as_of:
        for key in ("nps", "csat", "support", "backlog", "escalations", "touchpoints", "themes"):
            reasons[key] = coverage.reason
        return out

    if surveys is None and (tickets is None or "csat" not in tickets.columns):
        reasons["csat"] = "no surveys table and no ticket ratings were given"
    nps, csat, other = v.score_levels(surveys, tickets, run.period)
    if surveys is None:
        reasons["nps"] = _missing("surveys")
    else:
        facts["nps"], facts["other_surveys"] = nps, other
        if not nps["responses"]:
            reasons["nps"] = f"no NPS response was given between {run.period.window_start} and {run.period.as_of}"
        has_comment = "comment" in surveys.columns
        recent = v.within(surveys, "responded_at", run.period.window_start, run.period.as_of)
        facts["comments"] = {"responses_with_comment": int(recent["comment"].fillna("").str.strip().ne("").sum())
                             if has_comment else 0, "shown": False}
    if "csat" not in reasons:
        facts["csat"] = csat
        if not csat["responses"]:
            reasons["csat"] = f"no CSAT rating was given between {run.period.window_start} and {run.period.as_of}"

    if tickets is None:
        for key in ("support", "backlog", "escalations"):
            reasons[key] = _missing("support_tickets")
    else:
        months = v.account_months(accounts, renewals, run.period.as_of)
        level, table = v.support_load(tickets, months, run.period.window_start, run.period.as_of)
        before, _ = v.support_load(tickets, v.account_months(accounts, renewals, previous[1]), *previous)
        level["previous_tickets_per_account_month"] = before["tickets_per_account_month"]
        facts["support"] = level
        out[SUPPORT_LOAD_CSV] = table
        facts["backlog"] = v.open_backlog(tickets, run.period.as_of)
        arr = v.voice_arr(accounts, renewals, run.period.as_of)
        facts["escalations"] = v.escalations(tickets, arr, run.period)
        if facts["escalations"] is None:
            reasons["escalations"] = "the support_tickets table has no escalated flag"

    if touchpoints is None:
        reasons["touchpoints"] = _missing("touchpoints")
    elif "sentiment" not in touchpoints.columns or touchpoints["sentiment"].isna().all():
        reasons["touchpoints"] = "the touchpoints table records no sentiment"
    else:
        facts["touchpoints"] = v.touchpoint_level(touchpoints, run.period)

    if interviews is None:
        reasons["themes"] = _missing("interviews")
    elif "themes" not in interviews.columns or interviews["themes"].isna().all():
        reasons["themes"] = "the interviews table has no themes column (tags separated by ';')"
        facts["themes"] = v.interview_counts(interviews, run.period)
    else:
        facts["themes"] = v.interview_counts(interviews, run.period)
        table = v.themes_table(interviews, v.voice_arr(accounts, renewals, run.period.as_of), run.period)
        out[THEMES_CSV] = table
        if table.empty:
            reasons["themes"] = f"no interview with themes was held between {run.period.window_start} and {run.period.as_of}"

    quadrants = upstream.get(QUADRANTS_CSV)
    if surveys is not None and quadrants is not None and len(quadrants):
        out[VOICE_BY_QUADRANT_CSV] = v.by_quadrant(surveys, tickets, quadrants, run.period)
    return out


NODE = Node(
    key="voice_of_customer", title="Voice of the customer", compute=compute,
    needs=("quadrant_view",),
    outputs=(
        Output(VOICE_OF_CUSTOMER_JSON, "NPS, CSAT, support load, backlog, escalations, touchpoint sentiment and "
               "interview counts over the window, with the previous window, changes and reasons for nulls"),
        Output(VOICE_TREND_CSV, "per calendar quarter and measure (nps, csat, csat_satisfied, "
               "touchpoints_negative): responses and value",
               {"quarter": "str", "quarter_end": "date", "measure": "str", "responses": "int", "value": "float"},
               optional=True),
        Output(THEMES_CSV, "interview themes held in the window, per source group (churn, other), weighted by ARR",
               {"source_group": "str", "theme": "str", "accounts": "int", "mentions": "int", "arr": "float",
                "arr_share": "float"}, optional=True),
        Output(SUPPORT_LOAD_CSV, "tickets opened in the window per category and per priority: tickets, share, "
               "tickets per account-month, escalated",
               {"dimension": "str", "value": "str", "tickets": "int", "share": "float", "per_account_month": "float",
                "escalated": "int"}, optional=True),
        Output(VOICE_BY_QUADRANT_CSV, "NPS and CSAT over the window per quadrant of the active accounts",
               {"quadrant": "str", "accounts": "int", "accounts_responding": "int", "responses": "int",
                "nps": "float", "promoter_share": "float", "detractor_share": "float", "csat_responses": "int",
                "csat": "float"}, optional=True),
    ),
)
