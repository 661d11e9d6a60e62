"""The customer journey from onboarding to renewal: where accounts drop off
and where they meet friction, stage by stage.

Stages, in order: Onboarding, First value, Adoption, Support, Renewal. All
figures are as of the run's as-of date, point-in-time (a row counts when its
date is on or before that day), over the journey's accounts: those whose
contract started on or before the as-of date (or have no start) and that
were active at some point of the retention window ``(window_start, as_of]``
(ARR above 0 at either end, or a ``renewals`` row dated in the window).
Days are whole calendar days; rates are fractions (0.2), never rounded.

Measures (the project's documented choices):

- Onboarding, per milestone: an account *entered* a milestone when it has
  its row and the milestone was completed, is due on or before the as-of
  date, or has no due date. Completion rate = completed by the as-of date /
  entered. Late = completed after ``due_at``, or not completed and due
  before the as-of date. Churn by milestone: the accounts with a renewal
  decision in the churn look-back (``churn_lookback_months``, the churned
  and renewed customers of the metric definitions), each read as of the
  decision that set its group (no later data): the share in the churned
  group of those that had completed the milestone by then, against those
  that had entered it and not completed it. Fisher's exact test, two-sided,
  Benjamini-Hochberg across milestones; tested when both sides have at
  least ``min_accounts`` accounts. (The 12-month retention cohort is too
  few renewals to separate milestones reliably: most accounts renew once a
  year, so its churn is one draw per account.)
- First value: days from ``contract_start`` to the first usage event (on or
  after that day) whose feature is in ``[usage] value_events``, for
  accounts whose contract started on or after the first day the events
  cover (earlier starts cannot be timed). Drop-off: of the accounts that
  started at least 90 days before the as-of date, the share without a value
  event in their first 90 days.
- Adoption: workflow runs started in the window and not completed by the
  as-of date (abandoned or still open), where they stop (the quadrant
  step's :func:`~vga.nodes.quadrant_view.workflow_abandonment`); and
  core-feature adoption over the 90 days to the as-of date of the active
  accounts (no events = 0).
- Support: tickets per account opened in days 0-89 of the contract against
  days 90-179, for accounts that started on or after the first day the
  tickets cover and at least 180 days before the as-of date.
- Renewal: decisions in the window (``renewals`` rows with ``arr_before``
  above 0), by outcome from the numbers; drop-off = the share churned.
"""

from __future__ import annotations

from datetime import date

import ibis
import numpy as np
import pandas as pd

from ..contract import derived_outcome
from ..stats import adjust_table, fisher_p
from .retention import arr_at

STAGES = ("Onboarding", "First value", "Adoption", "Support", "Renewal")
#: Severity of each stage's main measure: (medium from, high from). Shares
#: of accounts or runs lost, except Support (a ratio of ticket rates) and
#: Renewal (share of decisions churned).
SEVERITY = {
    "Onboarding": (0.15, 0.30),
    "First value": (0.15, 0.30),
    "Adoption": (0.15, 0.30),
    "Support": (1.25, 1.75),
    "Renewal": (0.08, 0.15),
}
STAGE_COLUMNS = ["stage", "measure", "value", "accounts", "detail", "main", "severity"]
MILESTONE_COLUMNS = [
    "milestone", "accounts", "completed", "completion_rate", "late", "churn_rate_completed",
    "churn_rate_not_completed", "p_value", "q_value", "flagged", "late_rate", "decided_completed",
    "churned_completed", "decided_not_completed", "churned_not_completed", "tested",
]
#: Buckets of days to first value, for the distribution.
TTFV_BUCKETS = [(0, 7, "0-7 days"), (8, 30, "8-30 days"), (31, 60, "31-60 days"), (61, 90, "61-90 days"),
                (91, 180, "91-180 days"), (181, None, "over 180 days")]
EARLY_DAYS = 90


def _end_of(day: date) -> pd.Timestamp:
    """The first instant after ``day``: a value before it is on or before day."""
    return pd.Timestamp(day) + pd.Timedelta(days=1)


def severity(stage: str, value) -> str:
    """``low``, ``medium`` or ``high`` for a stage's main measure; ``unknown`` when missing."""
    if value is None or pd.isna(value):
        return "unknown"
    medium, high = SEVERITY[stage]
    return "high" if value >= high else "medium" if value >= medium else "low"


def journey_accounts(accounts: pd.DataFrame, renewals: pd.DataFrame | None, as_of: date,
                     window_start: date) -> pd.Index:
    """account_ids of the journey's accounts (see the module docstring)."""
    start_arr = arr_at(accounts, renewals, window_start)
    end_arr = arr_at(accounts, renewals, as_of)
    active = (start_arr > 0) | (end_arr > 0)
    if renewals is not None and len(renewals):
        dates = pd.to_datetime(renewals["renewal_date"])
        in_window = renewals[(dates > pd.Timestamp(window_start)) & (dates < _end_of(as_of))]
        active |= active.index.isin(in_window["account_id"])
    ids = active[active].index
    if "contract_start" in accounts.columns:
        starts = pd.to_datetime(accounts.drop_duplicates("account_id").set_index("account_id")["contract_start"])
        starts = starts.reindex(ids)
        ids = ids[(starts.isna() | (starts < _end_of(as_of))).to_numpy()]
    return pd.Index(ids, name="account_id")


# --------------------------------------------------------------------------
# Onboarding


def milestone_status(onboarding: pd.DataFrame, ids, as_of: date) -> pd.DataFrame:
    """One row per (account, milestone) entered by ``as_of`` among ``ids``:
    ``completed`` (by as_of), ``completed_at``, ``due_at``, ``late``.

    An account's several rows for one milestone count once: completed when
    any row was completed by as_of (the earliest such date), due at the
    earliest due date.
    """
    end = _end_of(as_of)
    o = onboarding[onboarding["account_id"].isin(ids)].copy()
    o["completed_at"] = pd.to_datetime(o["completed_at"]) if "completed_at" in o.columns else pd.NaT
    o["due_at"] = pd.to_datetime(o["due_at"]) if "due_at" in o.columns else pd.NaT
    o["completed_at"] = o["completed_at"].where(o["completed_at"] < end)  # completed later: not yet, as of then
    o["_order"] = np.arange(len(o))
    per = o.groupby(["account_id", "milestone"], sort=False).agg(
        completed_at=("completed_at", "min"), due_at=("due_at", "min"), order=("_order", "min")).reset_index()
    per["completed"] = per["completed_at"].notna()
    per = per[per["completed"] | per["due_at"].isna() | (per["due_at"] < end)]
    per["late"] = np.where(per["completed"], per["completed_at"] > per["due_at"],
                           per["due_at"] < pd.Timestamp(as_of))
    return per.reset_index(drop=True)


def decided_accounts(decisions: pd.DataFrame) -> pd.DataFrame:
    """One row per account with a decision in the churn look-back
    (``decisions``: :func:`vga.analysis.decisions.decision_table`): ``account_id``,
    ``churned`` (its group, its worst decision, is churned) and ``day``, the
    date of its earliest decision with that outcome: what the account had
    done is read as of that day, never later."""
    if not len(decisions):
        return pd.DataFrame({"account_id": pd.Series(dtype=object), "churned": pd.Series(dtype=bool),
                             "day": pd.Series(dtype="datetime64[ns]")})
    setting = decisions[decisions["outcome"] == decisions["group"]]
    day = pd.to_datetime(setting.groupby("account_id")["decision_date"].min())
    group = decisions.drop_duplicates("account_id").set_index("account_id")["group"]
    return pd.DataFrame({"account_id": day.index.to_numpy(), "churned": (group.reindex(day.index) == "churned").to_numpy(),
                         "day": day.to_numpy()})


def milestones_at_decision(onboarding: pd.DataFrame, decided: pd.DataFrame) -> pd.DataFrame:
    """Per (account, milestone) of the accounts in ``decided``: ``completed``
    by the account's ``day`` and ``entered`` by then (completed, due on or
    before that day, or without a due date), and ``churned``."""
    o = onboarding.merge(decided, on="account_id")
    end = o["day"] + pd.Timedelta(days=1)
    completed_at = pd.to_datetime(o["completed_at"]) if "completed_at" in o.columns else pd.Series(pd.NaT, index=o.index)
    due_at = pd.to_datetime(o["due_at"]) if "due_at" in o.columns else pd.Series(pd.NaT, index=o.index)
    o = o.assign(completed=(completed_at < end), due_by=due_at.isna() | (due_at < end))
    per = o.groupby(["account_id", "milestone"], sort=False).agg(
        completed=("completed", "any"), due_by=("due_by", "any"), churned=("churned", "first")).reset_index()
    per["entered"] = per["completed"] | per["due_by"]
    return per[per["entered"]].drop(columns=["due_by"]).reset_index(drop=True)


def milestone_table(status: pd.DataFrame, at_decision: pd.DataFrame | None, accounts: pd.DataFrame,
                    min_accounts: int = 10, alpha: float = 0.05) -> pd.DataFrame:
    """Per milestone: completion and lateness as of the as-of date, and the
    churn of accounts with a decision in the look-back that had completed
    it (as of their decision) against those that had not
    (:data:`MILESTONE_COLUMNS`).

    ``status``: :func:`milestone_status`; ``at_decision``:
    :func:`milestones_at_decision`, None without renewals (churn columns are
    then empty). Churn rate = share of those accounts in the churned group.
    Fisher's exact test (two-sided) where both sides have at least
    ``min_accounts`` accounts; Benjamini-Hochberg across the tested
    milestones; flagged when q < ``alpha``. Milestones are in journey
    order: by the median days from contract start to due date where known,
    else as first listed.
    """
    starts = None
    if "contract_start" in accounts.columns:
        starts = pd.to_datetime(accounts.drop_duplicates("account_id").set_index("account_id")["contract_start"])
    rows = []
    for milestone, g in status.groupby("milestone", sort=False):
        row = {"milestone": milestone, "accounts": len(g), "completed": int(g["completed"].sum()),
               "late": int(g["late"].sum())}
        row["completion_rate"] = row["completed"] / len(g)
        row["late_rate"] = row["late"] / len(g)
        d = at_decision[at_decision["milestone"] == milestone] if at_decision is not None else status.iloc[:0]
        done = d[d["completed"]] if len(d) else d
        not_done = d[~d["completed"].astype(bool)] if len(d) else d
        c_done = int(done["churned"].sum()) if len(done) else 0
        c_not = int(not_done["churned"].sum()) if len(not_done) else 0
        row |= {"decided_completed": len(done), "churned_completed": c_done, "decided_not_completed": len(not_done),
                "churned_not_completed": c_not,
                "churn_rate_completed": c_done / len(done) if len(done) else np.nan,
                "churn_rate_not_completed": c_not / len(not_done) if len(not_done) else np.nan}
        row["tested"] = at_decision is not None and len(done) >= min_accounts and len(not_done) >= min_accounts
        row["p_value"] = fisher_p(c_not, len(not_done), c_done, len(done)) if row["tested"] else np.nan
        due_days = np.nan
        if starts is not None:
            due_days = ((g["due_at"] - starts.reindex(g["account_id"]).to_numpy()).dt.days).median()
        row["_due"], row["_order"] = (due_days if pd.notna(due_days) else np.inf), g["order"].min()
        rows.append(row)
    frame = pd.DataFrame(rows)
    if not len(frame):
        return pd.DataFrame({c: pd.Series(dtype=object) for c in MILESTONE_COLUMNS})
    frame = frame.sort_values(["_due", "_order"]).drop(columns=["_due", "_order"]).reset_index(drop=True)
    frame = adjust_table(frame, alpha)
    ints = ["accounts", "completed", "late", "decided_completed", "churned_completed", "decided_not_completed",
            "churned_not_completed"]
    return frame.astype({c: np.int64 for c in ints})[MILESTONE_COLUMNS]


# --------------------------------------------------------------------------
# First value


def events_start(events: ibis.Table) -> date | None:
    """The first UTC day the events hold (one small aggregate)."""
    first = events.timestamp.min().to_pandas()
    return None if first is None or pd.isna(first) else pd.Timestamp(first).date()


def first_value_events(events: ibis.Table, starts: pd.DataFrame, value_events, as_of: date) -> pd.DataFrame:
    """Per account of ``starts`` (``account_id``, ``contract_start``): the
    first value event on or after its contract start and on or before
    ``as_of``. Aggregated where the events live (Ibis); only one row per
    account comes back."""
    value = list(value_events)
    if not value or not len(starts):
        return pd.DataFrame({"account_id": pd.Series(dtype=object), "first_value_at": pd.Series(dtype="datetime64[ns]")})
    frame = starts[["account_id", "contract_start"]].assign(
        account_id=starts["account_id"].astype(str), contract_start=pd.to_datetime(starts["contract_start"]))
    known = ibis.memtable(frame, schema={"account_id": "string", "contract_start": "timestamp"})
    hits = events.filter(events.feature.isin(value) & (events.timestamp < ibis.timestamp(_end_of(as_of).to_pydatetime())))
    joined = hits.join(known, "account_id")
    joined = joined.filter(joined.timestamp >= joined.contract_start)
    first = joined.group_by("account_id").aggregate(first_value_at=joined.timestamp.min()).to_pandas()
    first["first_value_at"] = pd.to_datetime(first["first_value_at"])
    return first


def time_to_first_value(first: pd.DataFrame, starts: pd.DataFrame, as_of: date) -> pd.DataFrame:
    """Per account of ``starts``: ``days_to_first_value`` (NaN when no value
    event yet as of ``as_of``) and ``days_since_start``."""
    out = starts[["account_id", "contract_start"]].copy()
    out["contract_start"] = pd.to_datetime(out["contract_start"])
    hit = out["account_id"].map(first.set_index("account_id")["first_value_at"]) if len(first) else pd.NaT
    out["days_to_first_value"] = (pd.to_datetime(hit).dt.normalize() - out["contract_start"]).dt.days.astype(float)
    out["days_since_start"] = (pd.Timestamp(as_of) - out["contract_start"]).dt.days
    return out.reset_index(drop=True)


def first_value_summary(ttfv: pd.DataFrame) -> dict:
    """Median and quartiles of days to first value, the share reached, the
    share without first value in 90 days (of accounts 90 days in), and the
    distribution in :data:`TTFV_BUCKETS` plus ``not yet``."""
    days = ttfv["days_to_first_value"]
    reached = days.dropna()
    seasoned = ttfv[ttfv["days_since_start"] >= EARLY_DAYS]
    missed = seasoned["days_to_first_value"].isna() | (seasoned["days_to_first_value"] >= EARLY_DAYS)
    buckets = [{"bucket": label, "accounts": int(((reached >= lo) & ((reached <= hi) if hi is not None else True)).sum())}
               for lo, hi, label in TTFV_BUCKETS]
    buckets.append({"bucket": "not yet", "accounts": int(days.isna().sum())})
    q = reached.quantile([0.25, 0.5, 0.75, 0.9]) if len(reached) else pd.Series(np.nan, index=[0.25, 0.5, 0.75, 0.9])
    return {
        "accounts": int(len(ttfv)), "reached": int(len(reached)),
        "reached_share": len(reached) / len(ttfv) if len(ttfv) else None,
        "median_days": None if pd.isna(q[0.5]) else float(q[0.5]),
        "p25_days": None if pd.isna(q[0.25]) else float(q[0.25]),
        "p75_days": None if pd.isna(q[0.75]) else float(q[0.75]),
        "p90_days": None if pd.isna(q[0.9]) else float(q[0.9]),
        "accounts_90_days_in": int(len(seasoned)), "no_value_in_90_days": int(missed.sum()),
        "no_value_in_90_days_share": float(missed.mean()) if len(seasoned) else None,
        "distribution": buckets,
    }


# --------------------------------------------------------------------------
# Adoption


def core_adoption(usage: pd.DataFrame, active_ids) -> pd.Series:
    """Core-feature adoption (0..1) per active account from the 90-day window
    usage (``account_id``, ``core_adoption``); accounts without events: 0."""
    adoption = usage.set_index("account_id")["core_adoption"].astype(float) if len(usage) else pd.Series(dtype=float)
    return adoption.reindex(pd.Index(active_ids)).fillna(0.0)


def runs_in_window(runs: pd.DataFrame, ids, window_start: date, as_of: date) -> pd.DataFrame:
    """Workflow runs of ``ids`` started in ``(window_start, as_of]``."""
    started = pd.to_datetime(runs["started_at"])
    keep = runs["account_id"].isin(ids) & (started >= _end_of(window_start)) & (started < _end_of(as_of))
    return runs[keep].reset_index(drop=True)


# --------------------------------------------------------------------------
# Support


def tickets_by_tenure(tickets: pd.DataFrame, starts: pd.DataFrame, as_of: date, covered_from: date | None) -> dict:
    """Tickets per account opened in days 0-89 of the contract against days
    90-179, for accounts of ``starts`` that started on or after
    ``covered_from`` (the tickets' first day) and at least 180 days before
    ``as_of``; only tickets opened on or before as_of."""
    s = starts[["account_id", "contract_start"]].dropna().copy()
    s["contract_start"] = pd.to_datetime(s["contract_start"])
    s = s[s["contract_start"] <= pd.Timestamp(as_of) - pd.Timedelta(days=2 * EARLY_DAYS)]
    if covered_from is not None:
        s = s[s["contract_start"] >= pd.Timestamp(covered_from)]
    t = tickets[pd.to_datetime(tickets["opened_at"]) < _end_of(as_of)]
    t = t[t["account_id"].isin(s["account_id"])]
    # A join, not Series.map: pandas cannot map an empty series through dates.
    start = t[["account_id"]].merge(s, on="account_id", how="left")["contract_start"].set_axis(t.index)
    day = (pd.to_datetime(t["opened_at"]).dt.normalize().astype("datetime64[ns]")
           - start.astype("datetime64[ns]")).dt.days
    early, later = int(((day >= 0) & (day < EARLY_DAYS)).sum()), int(((day >= EARLY_DAYS) & (day < 2 * EARLY_DAYS)).sum())
    n = len(s)
    early_ids = t.loc[((day >= 0) & (day < EARLY_DAYS)).to_numpy(), "account_id"].nunique()
    out = {"accounts": int(n), "tickets_first_90_days": early, "tickets_days_90_179": later,
           "per_account_first_90_days": early / n if n else None,
           "per_account_days_90_179": later / n if n else None,
           "accounts_with_ticket_first_90_days": int(early_ids),
           "covered_from": None if covered_from is None else pd.Timestamp(covered_from).date().isoformat()}
    out["ratio"] = (out["per_account_first_90_days"] / out["per_account_days_90_179"]
                    if n and later else None)
    return out


# --------------------------------------------------------------------------
# Renewal


def decisions_by_outcome(renewals: pd.DataFrame, window_start: date, as_of: date) -> dict:
    """Decisions in ``(window_start, as_of]`` (``arr_before`` above 0) by
    outcome from the numbers, and the ARR before of each outcome."""
    dates = pd.to_datetime(renewals["renewal_date"])
    d = renewals[(dates > pd.Timestamp(window_start)) & (dates < _end_of(as_of)) & (renewals["arr_before"] > 0)].copy()
    d["outcome"] = derived_outcome(d)
    outcomes = ("renewed", "expanded", "downgraded", "churned")
    counts = {o: int((d["outcome"] == o).sum()) for o in outcomes}
    arr = {o: float(d.loc[d["outcome"] == o, "arr_before"].sum()) for o in outcomes}
    return {"decisions": int(len(d)), "accounts": int(d["account_id"].nunique()), "by_outcome": counts,
            "arr_before_by_outcome": arr,
            "churned_share": counts["churned"] / len(d) if len(d) else None}


# --------------------------------------------------------------------------
# The map


def stage_rows(parts: dict) -> pd.DataFrame:
    """journey_stages.csv from the stage summaries in ``parts`` (keys
    ``onboarding``, ``first_value``, ``adoption``, ``support``, ``renewal``;
    a missing one gives its stage a single row with the reason as detail)."""
    rows = []

    def add(stage, measure, value, accounts, detail="", main=False):
        rows.append({"stage": stage, "measure": measure, "value": np.nan if value is None else float(value),
                     "accounts": accounts, "detail": detail, "main": main,
                     "severity": severity(stage, value) if main else ""})

    def missing(stage, measure, reason):
        add(stage, measure, None, None, reason, main=True)

    ob = parts.get("onboarding")
    if isinstance(ob, dict) and ob.get("accounts"):
        add("Onboarding", "share of accounts with a milestone not completed", ob["not_all_completed_share"],
            ob["accounts"], f"worst milestone: {ob['worst_milestone'].replace('_', ' ')} ({ob['worst_completion_rate']:.0%} completed)",
            main=True)
        add("Onboarding", "share of milestones completed late or overdue", ob["late_share"], ob["milestones"])
        if ob.get("flagged"):
            add("Onboarding", "milestones whose non-completion goes with churn", len(ob["flagged"]), ob["accounts"],
                ", ".join(m.replace("_", " ") for m in ob["flagged"]))
    else:
        missing("Onboarding", "share of accounts with a milestone not completed", ob if isinstance(ob, str) else "")
    fv = parts.get("first_value")
    if isinstance(fv, dict) and fv.get("accounts"):
        add("First value", "share without first value in their first 90 days", fv["no_value_in_90_days_share"],
            fv["accounts_90_days_in"], f"of accounts that started at least {EARLY_DAYS} days before the as-of date",
            main=True)
        add("First value", "median days to first value", fv["median_days"], fv["reached"],
            "accounts that reached first value")
        add("First value", "share not yet at first value", 1 - fv["reached_share"], fv["accounts"],
            "of accounts whose start the events cover")
    else:
        missing("First value", "share without first value in their first 90 days", fv if isinstance(fv, str) else "")
    ad = parts.get("adoption") or {}
    wf = ad.get("workflows")
    if isinstance(wf, dict) and wf.get("runs"):
        add("Adoption", "share of workflow runs abandoned", wf["abandoned_share"], wf["accounts"],
            f"{wf['runs']:,} runs in the window; most stop at {wf['worst_workflow'].replace('_', ' ')}: {wf['worst_step'].replace('_', ' ')}", main=True)
    else:
        missing("Adoption", "share of workflow runs abandoned", wf if isinstance(wf, str) else "no workflow runs")
    core = ad.get("core")
    if isinstance(core, dict):
        add("Adoption", "median core-feature adoption", core["median"], core["accounts"],
            "active accounts, last 90 days")
        add("Adoption", "share of active accounts using under half the core features", core["low_share"],
            core["accounts"])
    sp = parts.get("support")
    if isinstance(sp, dict) and sp.get("accounts") and sp.get("ratio") is not None:
        add("Support", "tickets per account, first 90 days against days 90-179", sp["ratio"], sp["accounts"],
            f"{sp['per_account_first_90_days']:.2f} against {sp['per_account_days_90_179']:.2f} tickets per account",
            main=True)
        add("Support", "tickets per account in the first 90 days", sp["per_account_first_90_days"], sp["accounts"])
    else:
        missing("Support", "tickets per account, first 90 days against days 90-179",
                sp if isinstance(sp, str) else "too few accounts started within the tickets' dates")
    rn = parts.get("renewal")
    if isinstance(rn, dict) and rn.get("decisions"):
        by = rn["by_outcome"]
        add("Renewal", "share of renewal decisions churned", rn["churned_share"], rn["decisions"],
            ", ".join(f"{by[o]:,} {o}" for o in ("renewed", "expanded", "downgraded", "churned")), main=True)
        add("Renewal", "share of renewal decisions downgraded", by["downgraded"] / rn["decisions"], rn["decisions"])
    else:
        missing("Renewal", "share of renewal decisions churned", rn if isinstance(rn, str) else "no decision in the window")
    frame = pd.DataFrame(rows, columns=STAGE_COLUMNS)
    frame["accounts"] = frame["accounts"].astype("Int64")
    return frame
