"""Early warnings, backtested: would each signal have warned us before a
customer churned, how early, and how often does it cry wolf?

Definitions (metric definitions, "Survival, models and early warnings";
the signals and their thresholds are the project's documented choices,
set in ``[early_warning]``):

- The decisions are those of the churn look-back (``decisions.csv``).
  Each signal is checked on every day ``t`` of the 180 days before a
  decision, ``t = decision_date - L`` for a lead ``L`` of 1 to 180 days,
  using only rows dated on or before ``t`` (point-in-time: the decision
  day itself and anything after it are never seen).
- A signal *fired before a decision* when it held on at least one of those
  days. Its *lead time* is ``L`` of the first (earliest) day it held: how
  many days before the decision it would have warned.
- For churned decisions: ``recall`` = fired / churned decisions, and the
  lead times' median, minimum and maximum over the decisions it fired for.
  For renewed and expanded decisions (retained): ``false_alarm_rate`` =
  fired / retained decisions. Downgrades are neither.
- A day on which a signal's data does not reach back far enough (the
  events start later, the table is not given) is not a day it fired; the
  counts of decisions with at least one day the signal could be checked
  are kept beside (``churned_evaluable``, ``retained_evaluable``).
- Beside the specification's columns: 95% Wilson intervals for both rates,
  and Fisher's exact test of "fires more often before churn than before a
  renewal" (one-sided), with Benjamini-Hochberg q-values over the signals;
  a signal is ``flagged`` (it separates churn from renewal) when q < alpha.
  A signal with fewer than ``min_n`` decisions on either side is shown,
  not tested.

The signals, on day ``t``:

- ``usage_drop``: product events in the 30 days to ``t`` were below
  ``usage_drop_share`` (default half) of the account's average per 30 days
  over the 90 days before them, the average being at least
  ``usage_min_events`` (default 10) events, on each of the
  ``usage_drop_days`` (default 14) days to ``t``: a quiet week is not a
  warning; needs events covering the 120 days before each of those days.
- ``health_red``: the health colour at ``t`` is red, and 30 days earlier
  it was yellow or better.
- ``health_drop``: the health score at ``t`` is at least
  ``health_drop_points`` (default 15) below its value 90 days earlier.
- ``nps_detractor``: an NPS response of 0 to 6 given on day ``t``.
- ``ticket_spike``: at least ``ticket_spike_min`` (default 3) support
  tickets opened in the 30 days to ``t``, and at least
  ``ticket_spike_factor`` (default 2) times the account's average per 30
  days over the 90 days before them; needs tickets covering the 120 days.
- ``health_below_threshold``: the health score at ``t`` is below the
  health threshold (``[analysis] health_threshold``): the CS team's own
  health score, used as a warning.

Health scores are the run's point-in-time scores (:func:`vga.analysis.scores.
health_for_pairs`, then the documented composite where the CS platform
has no score).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..stats import adjust_table, fisher_p, share_interval

SPAN_DAYS = 180  # the definitions' span before a decision
RECENT_DAYS, BASELINE_DAYS = 30, 90

SIGNAL_NAMES = {
    "usage_drop": "usage drop",
    "health_red": "health colour fell to red",
    "health_drop": "health score drop",
    "nps_detractor": "NPS detractor response",
    "ticket_spike": "support ticket spike",
    "health_below_threshold": "health score below the threshold",
}

WARNING_COLUMNS = [
    "signal", "definition", "churned_decisions", "fired_before_churn", "recall", "lead_days_median",
    "lead_days_min", "lead_days_max", "retained_decisions", "fired_before_retained", "false_alarm_rate",
]
EXTRA_COLUMNS = [
    "signal_name", "churned_evaluable", "retained_evaluable", "recall_ci_lower", "recall_ci_upper",
    "false_alarm_ci_lower", "false_alarm_ci_upper", "p_value", "q_value", "flagged", "tested",
]


def settings_with_defaults(section: dict | None) -> dict:
    """``[early_warning]`` with the documented defaults filled in."""
    from ..config import DEFAULTS

    return {**DEFAULTS["early_warning"], **(section or {})}


def definitions(settings: dict, health_threshold: float, red_below: float) -> dict[str, str]:
    """Each signal's definition, in words, with its thresholds."""
    s = settings_with_defaults(settings)
    return {
        "usage_drop": (f"product events in the last {RECENT_DAYS} days below {s['usage_drop_share']:.0%} of the "
                       f"account's average per {RECENT_DAYS} days over the {BASELINE_DAYS} days before "
                       f"(an average of at least {s['usage_min_events']:g} events), "
                       f"{s['usage_drop_days']:g} days in a row"),
        "health_red": f"the health colour turned red (score below {red_below:g}) from yellow or better 30 days earlier",
        "health_drop": f"the health score fell by {s['health_drop_points']:g} points or more in 90 days",
        "nps_detractor": "an NPS response of 0 to 6",
        "ticket_spike": (f"at least {s['ticket_spike_min']:g} support tickets opened in the last {RECENT_DAYS} days, "
                         f"{s['ticket_spike_factor']:g} times or more the account's average per {RECENT_DAYS} days "
                         f"over the {BASELINE_DAYS} days before"),
        "health_below_threshold": f"the health score was below the health threshold ({health_threshold:g})",
    }


class DayGrid:
    """The days a backtest looks at, as whole days counted from ``origin``.

    ``days[i, j]`` is the day index of decision ``i`` at lead ``leads[j]``
    (``leads`` = 1..180); accounts are numbered in ``accounts``.
    """

    #: How far before the span the grid reaches: the longest look-back of a
    #: signal on its first day (90 + 30 days, and a 90-day health drop
    #: started a persistence run earlier), with room to spare.
    REACH = 400

    def __init__(self, decisions: pd.DataFrame, span: int = SPAN_DAYS):
        dates = pd.to_datetime(decisions["decision_date"]).to_numpy("datetime64[D]")
        self.leads = np.arange(1, span + 1)
        self.origin = (dates.min() - np.timedelta64(span + self.REACH, "D")) if len(dates) else np.datetime64("2000-01-01")
        self.decision_day = (dates - self.origin).astype(int)
        self.days = self.decision_day[:, None] - self.leads[None, :]
        self.width = int(self.decision_day.max()) + 1 if len(dates) else 1
        self.accounts = pd.Index(pd.unique(decisions["account_id"].astype(str)))
        self.row = self.accounts.get_indexer(decisions["account_id"].astype(str))

    def longer(self, extra: int) -> "DayGrid":
        """The same grid reaching ``extra`` more days back (leads 1..span + extra)."""
        out = object.__new__(DayGrid)
        out.__dict__.update(self.__dict__)
        out.leads = np.arange(1, len(self.leads) + extra + 1)
        out.days = self.decision_day[:, None] - out.leads[None, :]
        return out

    def index_of(self, day) -> int:
        return int((np.datetime64(pd.Timestamp(day).date(), "D") - self.origin).astype(int))

    def date_of(self, index: np.ndarray) -> np.ndarray:
        return self.origin + index.astype("timedelta64[D]")

    def covered(self, first, last, reach: int) -> np.ndarray:
        """Mask of grid days whose ``reach`` days up to and including the
        day lie within ``[first, last]``; all False when unknown."""
        if first is None:
            return np.zeros(self.days.shape, dtype=bool)
        ok = self.days - (reach - 1) >= self.index_of(first)
        if last is not None:
            ok &= self.days <= self.index_of(last)
        return ok

    def counts(self, account_id: pd.Series, day: pd.Series, weight: pd.Series | None = None) -> np.ndarray:
        """Cumulative daily counts per account: ``C[a, k]`` is the sum over
        days before day index ``k`` (so a window ``(t - w, t]`` is
        ``C[a, t + 1] - C[a, t + 1 - w]``). Rows of unknown accounts or
        outside the grid are left out."""
        matrix = np.zeros((len(self.accounts), self.width + 1), dtype=np.float64)
        a = self.accounts.get_indexer(account_id.astype(str))
        k = (pd.to_datetime(day).to_numpy("datetime64[D]") - self.origin).astype(int)
        ok = (a >= 0) & (k >= 0) & (k < self.width)
        w = np.ones(len(a)) if weight is None else np.asarray(weight, dtype=float)
        np.add.at(matrix, (a[ok], k[ok] + 1), w[ok])
        return np.cumsum(matrix, axis=1, out=matrix)  # in place: the matrix is accounts x days

    def window(self, cumulative: np.ndarray, length: int, end_offset: int = 0) -> np.ndarray:
        """Per grid day ``t``, the sum over ``(t - end_offset - length, t - end_offset]``."""
        end = self.days - end_offset + 1
        start = np.maximum(end - length, 0)
        rows = self.row[:, None]
        return cumulative[rows, np.clip(end, 0, self.width)] - cumulative[rows, np.clip(start, 0, self.width)]


def first_firing(fired: np.ndarray) -> np.ndarray:
    """Per decision (a row of ``fired``, column j = lead j + 1 days), the
    lead in days of the earliest day the signal held (NaN where it never did)."""
    leads = np.where(fired, np.arange(1, fired.shape[1] + 1)[None, :], 0)
    best = leads.max(axis=1).astype(float)
    best[~fired.any(axis=1)] = np.nan
    return best


def held_for(condition: np.ndarray, days: int) -> np.ndarray:
    """Per row, True at column j (lead j + 1) when ``condition`` held on that
    day and on each of the ``days - 1`` days before it (columns j + 1 ...);
    the result has ``days - 1`` fewer columns."""
    if days <= 1:
        return condition
    ascending = condition[:, ::-1].astype(np.int32)  # earliest day first
    runs = np.cumsum(np.pad(ascending, ((0, 0), (1, 0))), axis=1)
    held = (runs[:, days:] - runs[:, :-days]) == days
    return held[:, ::-1]


def usage_drop(grid: DayGrid, daily_events: pd.DataFrame | None, first, last, s: dict) -> tuple[np.ndarray, np.ndarray]:
    """(fired, evaluable) per decision and lead; ``daily_events`` has
    ``account_id``, ``day`` and ``events`` (a day's count). The drop must
    hold ``usage_drop_days`` days in a row (a quiet week is not a warning)."""
    persist = max(int(s["usage_drop_days"]), 1)
    wide = grid.longer(persist - 1)
    evaluable = wide.covered(first, last, RECENT_DAYS + BASELINE_DAYS)
    if daily_events is None or daily_events.empty:
        return np.zeros(grid.days.shape, dtype=bool), held_for(evaluable, persist)
    c = wide.counts(daily_events["account_id"], daily_events["day"], daily_events["events"])
    recent = wide.window(c, RECENT_DAYS)
    baseline = wide.window(c, BASELINE_DAYS, end_offset=RECENT_DAYS) * (RECENT_DAYS / BASELINE_DAYS)
    dropped = evaluable & (baseline >= float(s["usage_min_events"])) & (recent < float(s["usage_drop_share"]) * baseline)
    return held_for(dropped, persist), held_for(evaluable, persist)


def ticket_spike(grid: DayGrid, tickets: pd.DataFrame | None, first, last, s: dict) -> tuple[np.ndarray, np.ndarray]:
    """(fired, evaluable) for the ticket spike (see the module docstring)."""
    if tickets is None:
        return np.zeros(grid.days.shape, dtype=bool), np.zeros(grid.days.shape, dtype=bool)
    evaluable = grid.covered(first, last, RECENT_DAYS + BASELINE_DAYS)
    c = grid.counts(tickets["account_id"], tickets["opened_at"])
    recent = grid.window(c, RECENT_DAYS)
    baseline = grid.window(c, BASELINE_DAYS, end_offset=RECENT_DAYS) * (RECENT_DAYS / BASELINE_DAYS)
    fired = evaluable & (recent >= float(s["ticket_spike_min"])) & (recent >= float(s["ticket_spike_factor"]) * baseline)
    return fired, evaluable


def nps_detractor(grid: DayGrid, surveys: pd.DataFrame | None) -> tuple[np.ndarray, np.ndarray]:
    """(fired, evaluable): a detractor response on the day. Evaluable
    wherever surveys are given (no response is no warning)."""
    shape = grid.days.shape
    if surveys is None:
        return np.zeros(shape, dtype=bool), np.zeros(shape, dtype=bool)
    nps = surveys[(surveys["kind"] == "nps") & (surveys["score"] <= 6)]
    c = grid.counts(nps["account_id"], nps["responded_at"])
    return grid.window(c, 1) > 0, np.ones(shape, dtype=bool)


def health_signals(grid: DayGrid, health: np.ndarray, threshold: float, red_below: float, s: dict) -> dict:
    """(fired, evaluable) of the three health signals from ``health``, the
    score on every grid day (columns 0..179) and on the days 30 and 90 days
    before each (``health[:, :, 1]`` and ``[:, :, 2]``); NaN where unknown."""
    now, month_ago, quarter_ago = health[:, :, 0], health[:, :, 1], health[:, :, 2]
    known = ~np.isnan(now)
    with np.errstate(invalid="ignore"):
        red = known & ~np.isnan(month_ago) & (now < red_below) & (month_ago >= red_below)
        drop = known & ~np.isnan(quarter_ago) & (quarter_ago - now >= float(s["health_drop_points"]))
        below = known & (now < threshold)
    return {
        "health_red": (red, known & ~np.isnan(month_ago)),
        "health_drop": (drop, known & ~np.isnan(quarter_ago)),
        "health_below_threshold": (below, known),
    }


#: Pairs scored at once by :func:`health_on_grid`: its memory grows with a
#: part (about 100 bytes a pair), not with every decision's 540 days.
PAIRS_PER_PART = 2_000_000


def health_on_grid(grid: DayGrid, score_pairs, pairs_per_part: int = PAIRS_PER_PART) -> np.ndarray:
    """The health score on each grid day and 30 and 90 days before it:
    an array (decisions, leads, 3). ``score_pairs(pairs)`` returns the
    health score of each (``account_id``, ``day``) pair, point-in-time.
    Decisions are scored in parts of about ``pairs_per_part`` pairs, the
    decisions of an account together (a pair shared by decisions is scored once)."""
    offsets = np.array([0, 30, 90])
    out = np.full(grid.days.shape + (len(offsets),), np.nan)
    by_account = np.argsort(grid.row, kind="stable")
    step = max(int(pairs_per_part) // max(grid.days.shape[1] * len(offsets), 1), 1)
    span = grid.width + 200
    for first in range(0, len(by_account), step):
        rows = by_account[first:first + step]
        days = grid.days[rows][:, :, None] - offsets[None, None, :]
        accounts = np.broadcast_to(grid.row[rows][:, None, None], days.shape)
        key = accounts.astype(np.int64) * span + (days + 100)
        unique, inverse = np.unique(key.ravel(), return_inverse=True)
        pairs = pd.DataFrame({"account_id": grid.accounts[unique // span],
                              "day": pd.to_datetime(grid.date_of(unique % span - 100))})
        scores = np.asarray(score_pairs(pairs), dtype=float)
        out[rows] = scores[inverse].reshape(days.shape)
    return out


def backtest(decisions: pd.DataFrame, fired: dict[str, tuple[np.ndarray, np.ndarray]], texts: dict[str, str],
             alpha: float = 0.05, min_n: int = 10) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``early_warning.csv`` (spec columns, then :data:`EXTRA_COLUMNS`) and
    the per-decision first firings (``account_id``, ``decision_date``,
    ``outcome``, then per signal its lead in days, empty where it did not
    fire), from each signal's (fired, evaluable) arrays."""
    churned = (decisions["outcome"] == "churned").to_numpy()
    retained = decisions["outcome"].isin(["renewed", "expanded"]).to_numpy()
    per_decision = decisions[["account_id", "decision_date", "outcome"]].reset_index(drop=True).copy()
    rows = []
    for signal, (hit, evaluable) in fired.items():
        lead = first_firing(hit)
        per_decision[signal] = lead
        any_fired = ~np.isnan(lead)
        n_c, n_r = int(churned.sum()), int(retained.sum())
        f_c, f_r = int((any_fired & churned).sum()), int((any_fired & retained).sum())
        leads = lead[any_fired & churned]
        can = evaluable.any(axis=1)
        row = {
            "signal": signal, "definition": texts[signal], "churned_decisions": n_c, "fired_before_churn": f_c,
            "recall": f_c / n_c if n_c else np.nan,
            "lead_days_median": float(np.median(leads)) if len(leads) else np.nan,
            "lead_days_min": float(leads.min()) if len(leads) else np.nan,
            "lead_days_max": float(leads.max()) if len(leads) else np.nan,
            "retained_decisions": n_r, "fired_before_retained": f_r,
            "false_alarm_rate": f_r / n_r if n_r else np.nan,
            "signal_name": SIGNAL_NAMES[signal],
            "churned_evaluable": int((can & churned).sum()), "retained_evaluable": int((can & retained).sum()),
            "p_value": np.nan, "tested": False,
        }
        for prefix, k, n in (("recall", f_c, n_c), ("false_alarm", f_r, n_r)):
            row[f"{prefix}_ci_lower"], row[f"{prefix}_ci_upper"] = share_interval(k, n)
        if row["churned_evaluable"] + row["retained_evaluable"] == 0:  # its data is not there: rates do not apply
            for key in ("recall", "false_alarm_rate", "recall_ci_lower", "recall_ci_upper", "false_alarm_ci_lower",
                        "false_alarm_ci_upper"):
                row[key] = np.nan
        elif row["churned_evaluable"] >= min_n and row["retained_evaluable"] >= min_n:
            row["p_value"] = fisher_p(f_c, n_c, f_r, n_r, alternative="greater")
            row["tested"] = True
        rows.append(row)
    table = pd.DataFrame(rows, columns=WARNING_COLUMNS + [c for c in EXTRA_COLUMNS if c not in ("q_value", "flagged")])
    return adjust_table(table, alpha)[WARNING_COLUMNS + EXTRA_COLUMNS], per_decision

