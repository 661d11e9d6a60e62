"""Renewal decisions of the churn look-back and what preceded them.

Definitions (metric definitions, "Churned and renewed customers"):

- Look-back window: ``(as_of - L months, as_of]``, L =
  ``churn_lookback_months`` (default 18, 12..24), in calendar months clipped
  to the month's last day.
- A decision is a ``renewals`` row dated in the look-back window with
  ``arr_before`` above 0; its outcome follows the numbers (churned,
  downgraded, renewed, expanded). One row per decision.
- Point-in-time features: for each decision and each lead of 30, 60 and 90
  days, the account's health score, usage score, ARR and support tickets
  opened in the 90 days ``(day - 90 days, day]``, as of ``day = decision_date
  - lead``, using nothing dated after that day. A score that cannot be
  computed that day is empty, not zero.
- Each account with a decision belongs to the group of its worst decision:
  churned, downgraded, renewed, expanded (worst first). Churned customers are
  the ``churned`` group; renewed customers the ``renewed`` and ``expanded``
  groups.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from ..inputs import Inputs
from ..settings import Settings
from dateutil.relativedelta import relativedelta

from .compare import compare_table
from ..contract import derived_outcome
from .quadrant import UNSCORED, assign_quadrant
from .retention import arr_for_pairs
from .frames import lookup
from .scores import scores_for_pairs, ticket_counts

LEADS = (30, 60, 90)
#: Worst first: an account's group is its worst decision of the look-back.
OUTCOMES = ("churned", "downgraded", "renewed", "expanded")
RETAINED = ("renewed", "expanded")
SIGNALS = {
    "health_score": "health score (0-100)",
    "usage_score": "usage score (0-100)",
    "arr": "ARR",
    "tickets": "support tickets opened in the previous 90 days",
}
DECISION_COLUMNS = ["account_id", "decision_date", "outcome", "arr_before", "arr_after", "churn_reason", "group"] + [
    f"{signal}_d{lead}" for lead in LEADS for signal in ("health_score", "usage_score", "arr", "tickets")
]


def lookback_start(as_of: date, months: int) -> date:
    """The exclusive start of the look-back window: ``as_of`` minus
    ``months`` calendar months, clipped to the month's last day."""
    if not 12 <= int(months) <= 24:
        raise ValueError(f"churn_lookback_months must be 12..24, not {months}")
    return as_of - relativedelta(months=int(months))


def decision_table(renewals: pd.DataFrame | None, as_of: date, months: int) -> pd.DataFrame:
    """One row per decision of the look-back window, in date order (then
    source order): ``account_id``, ``decision_date``, ``outcome`` (from the
    numbers), ``arr_before``, ``arr_after``, ``churn_reason`` (empty when not
    given) and ``group``. Empty (same columns) without renewals."""
    columns = DECISION_COLUMNS[:7]
    if renewals is None or renewals.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    start = pd.Timestamp(lookback_start(as_of, months))
    end = pd.Timestamp(as_of)
    r = renewals.assign(_order=renewals["source_row"] if "source_row" in renewals.columns else np.arange(len(renewals)))
    r = r.assign(renewal_date=pd.to_datetime(r["renewal_date"]))
    rows = r[(r["renewal_date"] > start) & (r["renewal_date"] <= end) & (r["arr_before"].astype(float) > 0)]
    rows = rows.sort_values(["renewal_date", "account_id", "_order"], kind="stable")
    out = pd.DataFrame({
        "account_id": rows["account_id"].astype(str).to_numpy(),
        "decision_date": rows["renewal_date"].dt.date.to_numpy(),
        "outcome": derived_outcome(rows).to_numpy(),
        "arr_before": rows["arr_before"].astype(float).to_numpy(),
        "arr_after": rows["arr_after"].astype(float).to_numpy(),
        "churn_reason": (rows["churn_reason"].fillna("").astype(str).to_numpy() if "churn_reason" in rows.columns
                         else np.full(len(rows), "", dtype=object)),
    })
    rank = out["outcome"].map({o: i for i, o in enumerate(OUTCOMES)})
    worst = rank.groupby(out["account_id"]).transform("min")
    out["group"] = worst.map(dict(enumerate(OUTCOMES))) if len(out) else pd.Series(dtype=object)
    return out[columns].reset_index(drop=True)


def add_point_in_time(decisions: pd.DataFrame, inputs: Inputs, settings: Settings, leads=LEADS) -> pd.DataFrame:
    """``decisions`` with, for each lead L, ``health_score_dL``,
    ``usage_score_dL``, ``arr_dL``, ``tickets_dL`` (see the module
    docstring), then ``quadrant_dL``: the quadrant those scores give
    (``Unscored`` where a score is missing), so that churned accounts are
    seen in the quadrant they had before they left."""
    settings = Settings.parse(settings)  # a configuration mapping works too
    out = decisions.copy()
    if out.empty:
        for lead in leads:
            for signal in ("health_score", "usage_score", "arr", "tickets"):
                out[f"{signal}_d{lead}"] = pd.Series(dtype=float)
        for lead in leads:
            out[f"quadrant_d{lead}"] = pd.Series(dtype=object)
        return out
    days = pd.to_datetime(out["decision_date"])
    pairs = pd.concat([pd.DataFrame({"account_id": out["account_id"], "day": days - pd.Timedelta(days=lead),
                                     "lead": lead, "row": out.index}) for lead in leads], ignore_index=True)
    scores = scores_for_pairs(inputs, pairs, settings)
    pairs["health_score"] = scores["health_score"].to_numpy()
    pairs["usage_score"] = scores["usage_score"].to_numpy()
    pairs["arr"] = arr_for_pairs(inputs.table("accounts"), inputs.table("renewals"), pairs).to_numpy()
    pairs["tickets"] = ticket_counts(inputs, pairs, settings).to_numpy()
    analysis = settings.analysis
    for lead in leads:
        part = pairs[pairs["lead"] == lead].set_index("row")
        for signal in ("health_score", "usage_score", "arr", "tickets"):
            out[f"{signal}_d{lead}"] = part[signal].reindex(out.index).astype(float)
    for lead in leads:
        out[f"quadrant_d{lead}"] = assign_quadrant(out[f"usage_score_d{lead}"], out[f"health_score_d{lead}"],
                                                   analysis.usage_threshold, analysis.health_threshold).to_numpy()
    return out


def signal_comparison(decisions: pd.DataFrame, alpha: float = 0.05, leads=LEADS, min_n: int = 10) -> pd.DataFrame:
    """Churned decisions against retained ones (renewed or expanded) for each
    signal and lead: the mean of each, the difference (churned minus
    retained) with its 95% interval and p-value (:mod:`vga.analysis.compare`), BH
    over the table. Columns: ``lead_days``, ``signal``, ``signal_name`` and
    the comparison columns (``first`` = churned, ``second`` = retained)."""
    churned = decisions["outcome"] == "churned"
    retained = decisions["outcome"].isin(RETAINED)
    rows, keys = [], []
    for lead in leads:
        for signal in SIGNALS:
            column = f"{signal}_d{lead}"
            if column not in decisions.columns:
                continue
            rows.append((column, decisions.loc[churned, column], decisions.loc[retained, column]))
            keys.append((lead, signal))
    table = compare_table(rows, alpha=alpha, min_n=min_n)
    key = dict(zip((name for name, _, _ in rows), keys))  # a measure without values on one side is left out
    table.insert(0, "signal_name", [SIGNALS[key[m][1]] for m in table["measure"]])
    table.insert(0, "signal", [key[m][1] for m in table["measure"]])
    table.insert(0, "lead_days", pd.array([key[m][0] for m in table["measure"]], dtype="int64"))
    return table.drop(columns="measure")


#: The churn reason of a decision whose renewals row gives none.
NOT_GIVEN = "(not given)"


def reasons_by_arr(decisions: pd.DataFrame) -> pd.DataFrame:
    """Churn reasons of churned and downgraded decisions weighted by the ARR
    they lost (``arr_before - arr_after``): per reason (``(not given)`` when
    empty), decisions, accounts, ARR lost and its share of all ARR lost."""
    lost = decisions[decisions["outcome"].isin(["churned", "downgraded"])]
    columns = ["churn_reason", "decisions", "accounts", "arr_lost", "arr_share"]
    if lost.empty:
        return pd.DataFrame({c: pd.Series(dtype=object if c == "churn_reason" else float) for c in columns})
    lost = lost.assign(arr_lost=lost["arr_before"] - lost["arr_after"],
                       churn_reason=lost["churn_reason"].replace("", NOT_GIVEN))
    out = lost.groupby("churn_reason").agg(decisions=("account_id", "size"), accounts=("account_id", "nunique"),
                                           arr_lost=("arr_lost", "sum")).reset_index()
    out["arr_share"] = out["arr_lost"] / out["arr_lost"].sum()
    return out.sort_values(["arr_lost", "churn_reason"], ascending=[False, True])[columns].reset_index(drop=True)


def quadrant_churn(decisions: pd.DataFrame, lead: int = 90) -> pd.DataFrame:
    """Per quadrant held ``lead`` days before the decision: decisions, churned
    decisions, the churn rate (churned / decisions) and ARR lost to churn.
    Over the look-back, so the quadrant's risk is measured on what happened."""
    column = f"quadrant_d{lead}"
    columns = ["quadrant", "decisions", "churned", "churn_rate", "arr_churned"]
    if decisions.empty or column not in decisions.columns:
        return pd.DataFrame({c: pd.Series(dtype=object if c == "quadrant" else float) for c in columns})
    d = decisions.assign(churned=decisions["outcome"] == "churned")
    d = d.assign(arr_churned=np.where(d["churned"], d["arr_before"], 0.0))
    out = d.groupby(column).agg(decisions=("churned", "size"), churned=("churned", "sum"),
                                arr_churned=("arr_churned", "sum")).reset_index().rename(columns={column: "quadrant"})
    out["churn_rate"] = out["churned"] / out["decisions"]
    order = {q: i for i, q in enumerate(("Champions", "Frustrated Power Users", "Relationship-Dependent", "Churn Risk",
                                         UNSCORED))}
    out = out.sort_values("quadrant", key=lambda s: s.map(order))
    out["decisions"] = out["decisions"].astype(int)
    out["churned"] = out["churned"].astype(int)
    return out[columns].reset_index(drop=True)


#: What the point-in-time comparisons need, in words.
HISTORY_NEEDED = ("that needs dated history reaching back before the decisions: health_scores, usage_events or "
                  "support_tickets over time")


def missing_groups(decisions: pd.DataFrame, first=("churned",), second=RETAINED) -> str | None:
    """Why decisions of the outcomes ``first`` cannot be compared with those
    of ``second`` (default: churned against renewed or expanded), in words;
    None when both groups have decisions."""
    n = len(decisions)
    if n == 0:
        return "there is no renewal decision in the look-back window"
    a = int(decisions["outcome"].isin(first).sum())
    b = int(decisions["outcome"].isin(second).sum())
    if a and b:
        return None
    names = {("churned",): "churned", RETAINED: "renewed or expanded", ("expanded",): "expanded",
             ("renewed",): "renewed flat"}
    empty = first if a == 0 else second
    by = decisions["outcome"].value_counts()
    counts = ", ".join(f"{int(by[o]):,} {o}" for o in OUTCOMES if o in by.index)
    which = names.get(tuple(empty), "/".join(empty))
    return f"none of the {n:,} decisions of the look-back {which} ({counts}), so there is nothing to compare with"


#: The renewals export's shape (:func:`renewals_shape`).
CANCELLATIONS_ONLY = "cancellations_only"
FULL = "full"


def renewals_shape(renewals: pd.DataFrame | None) -> str:
    """What the renewals export holds: :data:`CANCELLATIONS_ONLY` when every
    row with ARR before the change takes ARR to 0 (an export of cancellations,
    a status plus an end date: the renewals that went ahead, expansions and
    downgrades are not in it), else :data:`FULL`. With cancellations only, a
    share of renewal decisions that left is 100% by construction and says
    nothing of the customers: the report does not give it."""
    if renewals is None or renewals.empty:
        return FULL
    paid = renewals[renewals["arr_before"] > 0]
    if len(paid) and bool((paid["arr_after"] == 0).all()):
        return CANCELLATIONS_ONLY
    return FULL


def group_summary(decisions: pd.DataFrame) -> dict:
    """Counts for the churned-customers story: decisions by outcome, accounts
    by group, ARR lost to churn and to downgrades (positive numbers)."""
    by_outcome = decisions["outcome"].value_counts()
    accounts = decisions.drop_duplicates("account_id")["group"].value_counts()
    churned = decisions["outcome"] == "churned"
    downgraded = decisions["outcome"] == "downgraded"
    return {
        "decisions": int(len(decisions)),
        "decisions_by_outcome": {o: int(by_outcome.get(o, 0)) for o in OUTCOMES},
        "accounts_by_group": {o: int(accounts.get(o, 0)) for o in OUTCOMES},
        "arr_lost_churned": float(decisions.loc[churned, "arr_before"].sum()),
        "arr_lost_downgraded": float((decisions.loc[downgraded, "arr_before"] - decisions.loc[downgraded, "arr_after"]).sum()),
        "decision_churn_rate": float(churned.mean()) if len(decisions) else None,
    }


def behaviour_features(decisions: pd.DataFrame, inputs: Inputs, settings: Settings, lead: int = 30, max_features: int = 30) -> pd.DataFrame:
    """What each account did before each decision, as of ``decision_date -
    lead`` (point-in-time, like the signals): one row per decision with

    - ``uses_<feature>``: the feature was used in the 90 days to that day
      (the ``max_features`` most used features; needs usage events);
    - ``core_adoption``: share of the configured core features used then;
    - ``milestone_<name>``: the onboarding milestone was completed by then
      (empty where the account has no row for that milestone);
    - ``courses_completed`` and ``trained`` (any course completed by then);
    - ``days_to_first_value``: days from ``contract_start`` to the first
      configured value event, where both are known by then and the contract
      started on or after the first day the events cover (earlier starts:
      their first value may predate the data, so it is unknown);
    - ``tickets`` and ``escalated_tickets`` opened in the 90 days to then.

    Columns that need a missing table are left out.
    """
    settings = Settings.parse(settings)  # a configuration mapping works too
    from .usage import distinct_features, first_value, pair_feature_use, pair_usage, top_features

    out = decisions[["account_id", "decision_date", "outcome", "group"]].copy()
    if out.empty:
        return out
    pairs = pd.DataFrame({"pair": np.arange(len(out)), "account_id": out["account_id"].to_numpy(),
                          "day": pd.to_datetime(out["decision_date"]) - pd.Timedelta(days=lead)})
    day = pd.Series(pairs["day"].to_numpy(), index=out.index)
    end = day + pd.Timedelta(days=1)  # exclusive: all of the day
    if inputs.events is not None:
        events = inputs.events.table()
        features = top_features(events, max_features)
        used = pair_feature_use(events, pairs, features).set_index("pair")
        for feature in features:
            out[f"uses_{feature}"] = used[feature].reindex(pairs["pair"]).fillna(False).astype(bool).to_numpy()
        core = list(settings.usage.core_features)
        if core:
            activity = pair_usage(events, pairs, 90, core, distinct_features(events)).set_index("pair")
            out["core_adoption"] = activity["core_adoption"].reindex(pairs["pair"]).fillna(0.0).to_numpy()
        value = list(settings.usage.value_events)
        accounts = inputs.table("accounts")
        if value and "contract_start" in accounts.columns:
            from .coverage import table_dates

            first_day, _ = table_dates(inputs.sources, "usage_events")
            firsts = first_value(events, value).to_pandas().set_index("account_id")["first_value_at"]
            start = pd.to_datetime(lookup(out["account_id"], accounts.set_index("account_id")["contract_start"]))
            hit = (pd.to_datetime(lookup(out["account_id"], firsts)).dt.tz_localize(None) if len(firsts)
                   else pd.Series(pd.NaT, index=out.index, dtype="datetime64[ns]"))
            known = start.notna() & (first_day is not None) & (start >= pd.Timestamp(first_day) if first_day else False)
            reached = hit.notna() & (hit < end)
            days = (hit - start).dt.total_seconds() / 86400
            out["days_to_first_value"] = days.where(known & reached & (days >= 0))
    onboarding = inputs.table("onboarding", needs=("completed_at",))
    if onboarding is not None and len(onboarding):
        for milestone in sorted(onboarding["milestone"].dropna().unique()):
            rows = onboarding[onboarding["milestone"] == milestone]
            # several rows for one milestone: done from its earliest completion on (a later row never undoes it)
            done_at = lookup(out["account_id"], pd.to_datetime(rows["completed_at"]).groupby(rows["account_id"]).min())
            has_row = out["account_id"].isin(set(rows["account_id"]))
            flag = pd.Series(pd.array(pd.to_datetime(done_at).lt(end).to_numpy(), dtype="boolean"), index=out.index)
            flag[~has_row] = pd.NA
            out[f"milestone_{milestone}"] = flag
    training = inputs.table("training")
    if training is not None:
        keyed = pairs.assign(account_id=pairs["account_id"])
        m = training[["account_id", "completed_at"]].merge(keyed, on="account_id")
        m = m[m["completed_at"] < m["day"] + pd.Timedelta(days=1)]
        courses = m.groupby("pair").size().reindex(pairs["pair"]).fillna(0).to_numpy()
        out["courses_completed"] = courses.astype(float)
        out["trained"] = courses > 0
    tickets = inputs.table("support_tickets")
    if tickets is not None:
        out["tickets"] = ticket_counts(inputs, pairs, settings).to_numpy()
        if "escalated" in tickets.columns:
            escalated = tickets[tickets["escalated"].fillna(False).astype(bool)]
            out["escalated_tickets"] = ticket_counts(inputs, pairs, settings, tickets=escalated).to_numpy()
    return out


def behaviour_comparison(features: pd.DataFrame, alpha: float = 0.05, min_n: int = 10) -> pd.DataFrame:
    """Each behaviour of :func:`behaviour_features` compared twice: retained
    decisions (renewed or expanded) against churned ones, and expanded
    against renewed (what expanding customers do). Columns: ``comparison``
    (``retained vs churned`` or ``expanded vs renewed``), ``measure`` and the
    comparison columns; BH adjustment within each comparison."""
    measures = [c for c in features.columns if c not in ("account_id", "decision_date", "outcome", "group")]
    tables = []
    for name, first, second in (("retained vs churned", features["outcome"].isin(RETAINED), features["outcome"] == "churned"),
                                ("expanded vs renewed", features["outcome"] == "expanded", features["outcome"] == "renewed")):
        rows = [(m, features.loc[first, m], features.loc[second, m]) for m in measures]
        table = compare_table(rows, alpha=alpha, min_n=min_n)
        table.insert(0, "comparison", name)
        tables.append(table)
    return pd.concat(tables, ignore_index=True) if tables else pd.DataFrame()


FIGURES_LABEL = "the figures: a renewals row took ARR to 0"


def churned_in_figures(renewals: pd.DataFrame | None, accounts: pd.DataFrame, as_of: date) -> set[str]:
    """Accounts the figures count as churned by ``as_of``: a renewals row dated
    on or before the as-of date, and not before the account's
    ``contract_start``, with ``arr_before`` above 0 and ``arr_after`` = 0
    (the event of the survival definition)."""
    if renewals is None or renewals.empty:
        return set()
    # A row from no ARR to no ARR is not a churn: the account never paid.
    rows = renewals[(renewals["arr_before"] > 0) & (renewals["arr_after"] == 0)
                    & (pd.to_datetime(renewals["renewal_date"]) <= pd.Timestamp(as_of))]
    if "contract_start" in accounts.columns:
        start = lookup(rows["account_id"], accounts.drop_duplicates("account_id").set_index("account_id")["contract_start"])
        rows = rows[start.isna() | (pd.to_datetime(rows["renewal_date"]) >= pd.to_datetime(start))]
    return set(rows["account_id"])


def churn_label_agreement(labels: pd.DataFrame | None, renewals: pd.DataFrame | None, accounts: pd.DataFrame,
                          as_of: date) -> pd.DataFrame | None:
    """Each other churn label of the export counted against the figures' churn.

    One row for the figures (:func:`churned_in_figures`), then one per label:
    ``accounts`` (accepted accounts it names), ``also_churned_in_figures``,
    ``only_in_label`` (it says churned, the figures do not),
    ``only_in_figures`` (the figures say churned, it does not),
    ``unknown_ids`` (ids it names that are not accepted accounts) and
    ``left_after_as_of`` (of ``only_in_label``, accounts whose renewals row
    took ARR to 0 after the as-of date: a label set later, not a
    disagreement on who churned). Labels carry no date: they are compared
    as given. None without labels.
    """
    if labels is None:
        return None
    figures = churned_in_figures(renewals, accounts, as_of)
    later = set()
    if renewals is not None and len(renewals):
        after = renewals[(renewals["arr_before"] > 0) & (renewals["arr_after"] == 0)
                         & (pd.to_datetime(renewals["renewal_date"]) > pd.Timestamp(as_of))]
        later = set(after["account_id"]) - figures
    rows = [{"label": FIGURES_LABEL, "accounts": len(figures), "also_churned_in_figures": len(figures),
             "only_in_label": 0, "only_in_figures": 0, "unknown_ids": 0, "left_after_as_of": 0}]
    for label, part in labels.groupby("label", sort=False, observed=False):
        named = set(part.loc[part["known"], "account_id"])
        rows.append({"label": label, "accounts": len(named), "also_churned_in_figures": len(named & figures),
                     "only_in_label": len(named - figures), "only_in_figures": len(figures - named),
                     "unknown_ids": int((~part["known"]).sum()), "left_after_as_of": len((named - figures) & later)})
    return pd.DataFrame(rows)
