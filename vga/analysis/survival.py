"""How long accounts stay: Kaplan-Meier curves, log-rank tests and a Cox
model of time to churn (metric definitions, "Survival, models and early
warnings").

Every estimate is statsmodels' own: ``SurvfuncRight`` for the curves,
``survdiff``'s figures for the log-rank tests (computed here with matrix
products, as ``survdiff`` loops over the groups: quadratic in their number;
the tests hold the two equal), ``PHReg`` (Breslow ties) for the Cox model.
What is added here is the subjects table, the pointwise interval the
definitions fix (Greenwood on the log(-log) scale), the Cox model's
grouping of many-valued dimensions and the shaping of the result files.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from ..stats import bh_q_values
from .frames import lookup

Z95 = 1.959964  # the definitions' normal quantile for 95% intervals

SURVIVAL_COLUMNS = ["dimension", "group", "time_days", "at_risk", "events", "survival", "ci_lower", "ci_upper"]
TEST_COLUMNS = ["dimension", "groups", "statistic", "p_value"]
COX_COLUMNS = ["term", "hazard_ratio", "ci_lower", "ci_upper", "p_value", "subjects", "events"]


def survival_subjects(accounts: pd.DataFrame, renewals: pd.DataFrame | None, as_of: date) -> tuple[pd.DataFrame, list[str]]:
    """The survival subjects and the accounts left out.

    Subjects are accounts with a ``contract_start`` on or before ``as_of``
    that have paid (``arr`` above 0, or a renewals row with ``arr_before``
    above 0). The event is the first renewals row dated from
    ``contract_start`` to ``as_of`` with ``arr_before`` above 0 and
    ``arr_after`` = 0; ``duration_days`` is its date minus
    ``contract_start``. Without such a row the account is censored at
    ``as_of - contract_start`` days. Returns (subjects with ``account_id``,
    ``duration_days``, ``churned`` and the accounts' other columns; the ids
    of accounts left out: no ``contract_start``, one after ``as_of``, or
    never paid).
    """
    as_of_ts = pd.Timestamp(as_of)
    why = left_out_reasons(accounts, renewals, as_of)
    keep = why == ""
    start = (pd.to_datetime(accounts["contract_start"]) if "contract_start" in accounts.columns
             else pd.Series(pd.NaT, index=accounts.index)).astype("datetime64[ns]")
    left_out = sorted(accounts.loc[~keep, "account_id"].astype(str))
    subjects = accounts.loc[keep].copy()
    subjects["contract_start"] = start[keep]
    event_day = pd.Series(pd.NaT, index=subjects.index, dtype="datetime64[ns]")
    if renewals is not None and len(renewals):
        lost = (renewals["arr_before"] > 0) & (renewals["arr_after"] == 0)
        rows = renewals.loc[lost, ["account_id", "renewal_date"]].copy()
        rows["renewal_date"] = pd.to_datetime(rows["renewal_date"]).astype("datetime64[ns]")
        rows = rows.merge(subjects[["account_id", "contract_start"]], on="account_id")
        rows = rows[(rows["renewal_date"] >= rows["contract_start"]) & (rows["renewal_date"] <= as_of_ts)]
        first = rows.groupby("account_id")["renewal_date"].min()
        event_day = lookup(subjects["account_id"], first).astype("datetime64[ns]")
    subjects["churned"] = event_day.notna()
    end = event_day.where(subjects["churned"], as_of_ts)
    subjects["duration_days"] = (end - subjects["contract_start"]).dt.days.astype(float)
    return subjects.reset_index(drop=True), left_out


#: Why an account is not a survival subject, in words.
NO_START, LATE_START, NEVER_PAID = "no contract_start", "contract_start after the as-of date", "never paid"


def left_out_reasons(accounts: pd.DataFrame, renewals: pd.DataFrame | None, as_of: date) -> pd.Series:
    """Per account (aligned with ``accounts``), why it is not a survival
    subject (:data:`NO_START`, :data:`LATE_START` or :data:`NEVER_PAID`), or
    "" for a subject. Accounts that never paid cannot churn."""
    start = (pd.to_datetime(accounts["contract_start"]) if "contract_start" in accounts.columns
             else pd.Series(pd.NaT, index=accounts.index)).astype("datetime64[ns]")
    paid = (accounts["arr"].fillna(0) > 0 if "arr" in accounts.columns
            else pd.Series(False, index=accounts.index))
    if renewals is not None and len(renewals):
        paid |= accounts["account_id"].isin(renewals.loc[renewals["arr_before"] > 0, "account_id"])
    why = pd.Series("", index=accounts.index, dtype=object)
    why[~paid.to_numpy()] = NEVER_PAID
    why[(start > pd.Timestamp(as_of)).to_numpy()] = LATE_START
    why[start.isna().to_numpy()] = NO_START
    return why


def _km_arrays(durations: np.ndarray, churned: np.ndarray) -> dict[str, np.ndarray] | None:
    """:func:`kaplan_meier`'s columns as arrays; None where no one churned."""
    from statsmodels.duration.survfunc import SurvfuncRight

    if not bool(churned.any()):
        return None
    fit = SurvfuncRight(durations, churned)
    times, at_risk, events, surv = fit.surv_times, fit.n_risk, fit.n_events, fit.surv_prob
    # Greenwood's V = sum of d / (n (n - d)) over event times up to t; a time
    # where everyone at risk left makes S 0 and V infinite: no interval there.
    with np.errstate(divide="ignore", invalid="ignore"):
        variance = np.cumsum(events / (at_risk * (at_risk - events)))
        log_s = np.log(surv)
        half = Z95 * np.sqrt(variance) / log_s
        lower = np.exp(-np.exp(np.log(-log_s) - half))
        upper = np.exp(-np.exp(np.log(-log_s) + half))
    defined = (surv > 0) & (surv < 1) & np.isfinite(variance)
    return {"time_days": np.asarray(times, dtype=float), "at_risk": np.asarray(at_risk).astype(int),
            "events": np.asarray(events).astype(int), "survival": np.asarray(surv, dtype=float),
            "ci_lower": np.where(defined, lower, np.nan), "ci_upper": np.where(defined, upper, np.nan)}


def kaplan_meier(durations: pd.Series, churned: pd.Series) -> pd.DataFrame:
    """One curve: a row per distinct event time with ``time_days``,
    ``at_risk``, ``events``, ``survival`` (statsmodels ``SurvfuncRight``) and
    the Greenwood log(-log) 95% interval (empty where survival is 0 or 1)."""
    arrays = _km_arrays(np.asarray(durations, dtype=float), np.asarray(churned, dtype=float))
    if arrays is None:
        return pd.DataFrame({c: pd.Series(dtype=float) for c in SURVIVAL_COLUMNS[2:]})
    return pd.DataFrame(arrays)


def _labels(subjects: pd.DataFrame, dimension: str) -> pd.Series:
    """Each subject's group of ``dimension`` as text; missing where empty."""
    values = subjects[dimension]
    text = values.astype(str)
    empty = values.isna().to_numpy() | (text == "").to_numpy()
    return pd.Series(np.where(empty, None, text.to_numpy(dtype=object)), index=subjects.index, dtype=object)


def _by_size(labels: pd.Series) -> list[tuple[str, int]]:
    """The groups of ``labels`` with their sizes, largest first (ties by name)."""
    sizes = labels.value_counts()
    return sorted(((str(g), int(n)) for g, n in sizes.items()), key=lambda gn: (-gn[1], gn[0]))


def groups_tested(subjects: pd.DataFrame, dimension: str, min_accounts: int) -> list[str]:
    """The groups of ``dimension`` with at least ``min_accounts`` subjects, largest first."""
    return [g for g, n in _by_size(_labels(subjects, dimension)) if n >= min_accounts]


def _groups(subjects: pd.DataFrame, dimension: str, min_accounts: int) -> list[tuple[str, np.ndarray]]:
    """:func:`groups_tested` with each group's subjects (positions in
    ``subjects``): the column is read once, not once per group."""
    labels = _labels(subjects, dimension)
    positions = pd.Series(np.arange(len(labels))).groupby(labels.to_numpy()).indices
    return [(g, positions[g]) for g, n in _by_size(labels) if n >= min_accounts]


def survival_curves(subjects: pd.DataFrame, dimensions: list[str], min_accounts: int) -> pd.DataFrame:
    """``survival.csv``: the overall curve (``all``/``all``), then each group of
    each dimension with at least ``min_accounts`` subjects."""
    durations = subjects["duration_days"].to_numpy(float)
    churned = subjects["churned"].to_numpy(float)
    curves = [("all", "all", _km_arrays(durations, churned))]
    for dim in dimensions:
        curves += [(dim, group, _km_arrays(durations[rows], churned[rows]))
                   for group, rows in _groups(subjects, dim, min_accounts)]
    curves = [(dim, group, arrays) for dim, group, arrays in curves if arrays is not None]
    if not curves:
        return pd.DataFrame({c: pd.Series(dtype=object if c in ("dimension", "group") else float)
                             for c in SURVIVAL_COLUMNS})
    lengths = [len(arrays["time_days"]) for _, _, arrays in curves]
    out = {"dimension": np.repeat(np.array([d for d, _, _ in curves], dtype=object), lengths),
           "group": np.repeat(np.array([g for _, g, _ in curves], dtype=object), lengths)}
    for column in SURVIVAL_COLUMNS[2:]:
        out[column] = np.concatenate([arrays[column] for _, _, arrays in curves])
    return pd.DataFrame(out)[SURVIVAL_COLUMNS]


def logrank(durations: np.ndarray, churned: np.ndarray, groups: np.ndarray) -> tuple[float, float]:
    """The unweighted log-rank test across ``groups``: (statistic, p-value),
    as statsmodels ``survdiff`` computes it (observed minus expected events
    of every group but the first, by name, and their covariance, summed
    over the distinct times at which more than one subject is at risk),
    with the per-group sums done as matrix products: ``survdiff`` loops
    over the groups, which is quadratic in their number."""
    from scipy.stats import chi2

    names, codes = np.unique(np.asarray(groups), return_inverse=True)
    times, at = np.unique(np.asarray(durations, dtype=float), return_inverse=True)
    k, m = len(names), len(times)
    cell = codes.ravel() * m + at.ravel()
    leaving = np.bincount(cell, minlength=k * m).reshape(k, m)
    observed = np.bincount(cell, weights=np.asarray(churned, dtype=float), minlength=k * m).reshape(k, m)
    at_risk = np.cumsum(leaving[:, ::-1], axis=1)[:, ::-1].astype(float)
    events, total = observed.sum(axis=0), at_risk.sum(axis=0)
    used = total > 1
    share = (at_risk / np.clip(total, 1e-10, np.inf))[1:, used]
    weight = (events * (total - events) / np.clip(total - 1, 1e-10, np.inf))[used]
    excess = (observed[1:, used] - share * events[used]).sum(axis=1)
    covariance = np.diag(share @ weight) - (share * weight) @ share.T
    statistic = float(excess @ np.linalg.solve(covariance, excess))
    return statistic, float(1 - chi2.cdf(statistic, k - 1))


def logrank_tests(subjects: pd.DataFrame, dimensions: list[str], min_accounts: int) -> pd.DataFrame:
    """``survival_tests.csv``: per dimension, the unweighted log-rank test
    (:func:`logrank`, statsmodels ``survdiff``'s figures) across its groups
    with at least ``min_accounts`` subjects; a dimension with fewer than two
    such groups, or no event among them, is not tested (no row)."""
    durations = subjects["duration_days"].to_numpy(float)
    churned = subjects["churned"].to_numpy(float)
    rows = []
    for dim in dimensions:
        groups = _groups(subjects, dim, min_accounts)
        if len(groups) < 2:
            continue
        part = np.concatenate([positions for _, positions in groups])
        if not churned[part].any():
            continue
        labels = np.repeat(np.array([g for g, _ in groups], dtype=object), [len(p) for _, p in groups])
        statistic, p_value = logrank(durations[part], churned[part], labels)
        rows.append({"dimension": dim, "groups": len(groups), "statistic": statistic, "p_value": p_value})
    return pd.DataFrame(rows, columns=TEST_COLUMNS)


#: The group of a slicing dimension into which the Cox model pools the
#: values past its ``max_groups`` largest: the term ``dimension[(other)]``.
OTHER = "(other)"


@dataclass(frozen=True)
class CoxGroups:
    """How one slicing dimension enters the Cox model (:func:`cox_groups`).

    ``reference`` is its largest group; ``terms`` the groups that have an
    indicator (named ``dimension[group]``; :data:`OTHER` for the pool).
    ``values`` counts its non-empty values; when it has more than
    ``max_groups`` groups of at least ``min_accounts`` subjects, ``kept``
    (its largest, the reference included) stay apart and the other
    ``pooled`` values form ``dimension[(other)]`` (``kept`` and ``pooled``
    are 0 when nothing was pooled). ``merged`` lists ``(group, subjects)``
    of the groups in which no subject churned: they are counted with the
    reference group, since their hazard ratio would be 0, with no interval.
    """

    dimension: str
    reference: str
    terms: tuple[str, ...]
    values: int
    kept: int
    pooled: int
    merged: tuple[tuple[str, int], ...]

    def term(self, group: str) -> str:
        return f"{self.dimension}[{group}]"


def _cox_plan(subjects: pd.DataFrame, dimensions: list[str], min_accounts: int, max_groups: int,
              rows: pd.Series | None) -> list[tuple[CoxGroups, pd.Series]]:
    """Each dimension's :class:`CoxGroups` with every subject's group in the
    model (a kept group, :data:`OTHER`, or missing: the reference's)."""
    churned = subjects["churned"].astype(bool).to_numpy()
    if rows is not None:
        churned = churned & rows.reindex(subjects.index).fillna(False).astype(bool).to_numpy()
    plan = []
    for dim in dimensions:
        labels = _labels(subjects, dim)
        sizes = _by_size(labels)
        tested = [g for g, n in sizes if n >= min_accounts]
        if not tested:
            continue
        pooling = len(tested) > max_groups
        kept = tested[:max_groups] if pooling else tested
        member = labels.where(labels.isin(kept))
        if pooling:
            member[labels.notna() & member.isna()] = OTHER
        candidates = kept[1:] + ([OTHER] if pooling else [])
        counts = member.value_counts()
        events = pd.Series(churned, index=subjects.index).groupby(member.to_numpy()).sum()
        merged = [g for g in candidates if events.get(g, 0) == 0]
        terms = tuple(g for g in candidates if g not in merged)
        groups = CoxGroups(dimension=dim, reference=kept[0], terms=terms, values=len(sizes),
                           kept=len(kept) if pooling else 0, pooled=len(sizes) - len(kept) if pooling else 0,
                           merged=tuple((g, int(counts.get(g, 0))) for g in merged))
        plan.append((groups, member.where(member.isin(terms))))
    return plan


def cox_groups(subjects: pd.DataFrame, dimensions: list[str], min_accounts: int, max_groups: int = 10,
               rows: pd.Series | None = None) -> dict[str, CoxGroups]:
    """How each slicing dimension enters :func:`cox_design`: its reference
    (largest) group, the groups with an indicator, the values pooled into
    ``dimension[(other)]`` and the groups merged into the reference for
    want of a churned account (:class:`CoxGroups`). ``rows``: the subjects
    the model is fitted on (default all); a group's churned accounts are
    counted among them."""
    return {g.dimension: g for g, _ in _cox_plan(subjects, dimensions, min_accounts, max_groups, rows)}


def cox_design(subjects: pd.DataFrame, dimensions: list[str], min_accounts: int, max_groups: int = 10,
               rows: pd.Series | None = None) -> pd.DataFrame:
    """The Cox model's covariates: for each dimension, an indicator per group
    with at least ``min_accounts`` subjects, against the dimension's largest
    group (smaller groups stay in the reference), named ``dimension[value]``.
    A dimension with more than ``max_groups`` such groups keeps its
    ``max_groups`` largest (ties by name, the reference among them) and
    pools every other value into one group, ``dimension[(other)]``. A group
    (kept or pooled) in which no subject of ``rows`` churned is counted with
    the reference: its hazard ratio could not be estimated. What was pooled
    and merged: :func:`cox_groups`. Columns that never vary are left out:
    they cannot be estimated."""
    design = {}
    for groups, member in _cox_plan(subjects, dimensions, min_accounts, max_groups, rows):
        for group in groups.terms:
            design[groups.term(group)] = (member == group).astype(float)
    frame = pd.DataFrame(design, index=subjects.index)
    return frame.loc[:, frame.nunique() > 1]


def cox_reference(subjects: pd.DataFrame, dimensions: list[str], min_accounts: int,
                  max_groups: int = 10) -> dict[str, str]:
    """Each dimension's reference group in :func:`cox_design`: its largest."""
    return {dim: groups.reference for dim, groups in cox_groups(subjects, dimensions, min_accounts, max_groups).items()}


def _fit_cox(subjects: pd.DataFrame, design: pd.DataFrame):
    """statsmodels ``PHReg`` (Breslow ties) of ``duration_days`` and
    ``churned`` on ``design``: (result, converged). statsmodels says a fit
    did not converge only by a warning; it is caught here and said in words
    by the caller instead."""
    import warnings

    from statsmodels.duration.hazard_regression import PHReg
    from statsmodels.tools.sm_exceptions import ConvergenceWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        fit = PHReg(subjects["duration_days"].to_numpy(float), design.to_numpy(float),
                    status=subjects["churned"].to_numpy(float), ties="breslow").fit()
    return fit, not any(issubclass(w.category, ConvergenceWarning) for w in caught)


def cox_model(subjects: pd.DataFrame, design: pd.DataFrame, min_events: int = 10) -> tuple[pd.DataFrame, str | None]:
    """``cox.csv``: statsmodels ``PHReg`` (Breslow ties) of time to churn on
    ``design``; per term the hazard ratio, its 95% interval and p-value, with
    ``subjects`` and ``events``. Returns (table, reason): with fewer than
    ``min_events`` events, or no covariate, the table is empty and the
    reason says why, instead of fitting; a fit that does not converge (a
    hazard ratio of 0 or infinity) is also an empty table and a reason."""
    rows_used = design.notna().all(axis=1)
    subjects, design = subjects[rows_used], design[rows_used]
    events = int(subjects["churned"].sum())
    empty = pd.DataFrame(columns=COX_COLUMNS)
    if design.shape[1] == 0:
        return empty, "no covariate varies across the accounts"
    if events < min_events:
        return empty, f"only {events} churned account(s) among {len(subjects)}: too few events for a Cox model (at least {min_events})"
    fit, converged = _fit_cox(subjects, design)
    with np.errstate(over="ignore"):
        ci = np.exp(fit.conf_int())
    if not converged or not np.isfinite(ci).all():
        # Typically a group in which no account churned (or every one did):
        # its hazard ratio runs off to 0 or infinity and no interval exists.
        return empty, (f"the Cox model did not converge on these {len(subjects)} accounts ({events} churned): "
                       "a group in which no account churned, or every one did, has no finite hazard ratio; "
                       "no hazard ratio is reported (the curves and log-rank tests still are)")
    table = pd.DataFrame({
        "term": list(design.columns), "hazard_ratio": np.exp(fit.params), "ci_lower": ci[:, 0],
        "ci_upper": ci[:, 1], "p_value": fit.pvalues, "subjects": len(subjects), "events": events,
    })
    return table[COX_COLUMNS], None


def proportional_hazards_check(subjects: pd.DataFrame, design: pd.DataFrame, alpha: float = 0.05) -> list[dict]:
    """Whether each term's effect holds over time: the correlation of its
    Schoenfeld residuals with the event time (a test in the spirit of
    Grambsch and Therneau, on rank of time). Returns per term ``term``,
    ``correlation``, ``p_value``, ``q_value`` (Benjamini-Hochberg over the
    terms: many are checked at once) and ``holds`` (q >= alpha)."""
    from scipy.stats import pearsonr

    if design.shape[1] == 0 or subjects["churned"].sum() < 3:
        return []
    fit, _ = _fit_cox(subjects, design)  # only run where cox_model converged
    residuals = fit.schoenfeld_residuals
    observed = ~np.isnan(residuals).all(axis=1)
    times = pd.Series(subjects["duration_days"].to_numpy(float)[observed]).rank().to_numpy()
    out = []
    for j, term in enumerate(design.columns):
        values = residuals[observed, j]
        if np.nanstd(values) == 0 or len(values) < 3:
            continue
        r, p = pearsonr(times, values)
        out.append({"term": term, "correlation": float(r), "p_value": float(p)})
    if out:
        q_values = bh_q_values([o["p_value"] for o in out])
        for o, q in zip(out, q_values):
            o.update(q_value=float(q), holds=bool(q >= alpha))
    return out


ONBOARDING_DAYS = 180  # a milestone completed later than this after contract_start counts as missed


def milestones_missed(subjects: pd.DataFrame, onboarding: pd.DataFrame | None, as_of: date | None = None,
                      days: int = ONBOARDING_DAYS) -> pd.DataFrame:
    """Cox covariates from onboarding: per milestone, ``milestone_missed[<name>]``
    = 1 when the account did not complete it within ``days`` of its
    ``contract_start`` (0 when it did; empty where the account has no row for
    that milestone). Known ``days`` after the start, whatever came later;
    point-in-time: a completion dated after ``as_of`` is not seen, and an
    account whose first ``days`` end after ``as_of`` without the milestone
    is empty (it may still complete it in time)."""
    if onboarding is None or onboarding.empty:
        return pd.DataFrame(index=subjects.index)
    o = onboarding[["account_id", "milestone"]].copy()
    o["completed_at"] = pd.to_datetime(onboarding["completed_at"]) if "completed_at" in onboarding.columns else pd.NaT
    start = subjects.set_index("account_id")["contract_start"]
    o = o[o["account_id"].isin(start.index)]
    deadline = o["account_id"].map(start) + pd.Timedelta(days=days)
    seen = o["completed_at"].notna()
    if as_of is not None:
        seen &= o["completed_at"] < pd.Timestamp(as_of) + pd.Timedelta(days=1)
    o["in_time"] = seen & (o["completed_at"] <= deadline)
    done = o.groupby(["account_id", "milestone"])["in_time"].any().unstack("milestone")
    undecided = (start + pd.Timedelta(days=days)) > pd.Timestamp(as_of) if as_of is not None else None
    out = {}
    for milestone in sorted(done.columns):
        flag = subjects["account_id"].map(done[milestone])
        missed = (~flag.astype("boolean")).astype("Float64")
        if undecided is not None:
            open_yet = subjects["account_id"].map(undecided).fillna(False).astype(bool) & (missed == 1).fillna(False)
            missed[open_yet.to_numpy()] = pd.NA
        out[f"milestone_missed[{milestone}]"] = missed.astype(float)
    return pd.DataFrame(out, index=subjects.index)


def at_risk_counts(subjects: pd.DataFrame, dimensions: list[str], min_accounts: int, step_days: int = 365) -> dict:
    """Accounts still at risk (neither churned nor censored before) at every
    ``step_days`` from 0 to the longest duration, per curve of
    :func:`survival_curves`: ``{"times": [...], "rows": [{"dimension",
    "group", "counts"}]}``, for the figures' at-risk line."""
    durations = subjects["duration_days"].to_numpy(float)
    longest = float(durations.max()) if len(subjects) else 0.0
    times = list(range(0, int(longest) + 1, step_days))
    rows = []

    def add(dim, group, part):
        part = np.sort(part)
        at_risk = len(part) - np.searchsorted(part, np.asarray(times, dtype=float), side="left")
        rows.append({"dimension": dim, "group": group, "counts": [int(c) for c in at_risk]})

    add("all", "all", durations)
    for dim in dimensions:
        for group, positions in _groups(subjects, dim, min_accounts):
            add(dim, group, durations[positions])
    return {"times": times, "rows": rows}
