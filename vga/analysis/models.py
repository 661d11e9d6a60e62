"""Renewal and expansion probability: readable logistic models, validated
out of time.

Definitions (metric definitions, "Survival, models and early warnings";
the terms, the cut-off and the thresholds are the project's documented
choices, set in ``[models]``):

- **Renewal model**: a logistic model (statsmodels formula API) of "the
  decision was not churned" (renewed, expanded or downgraded) on the
  point-in-time features 90 days before each decision of the look-back
  (``decisions.csv``): the health score and the usage score (per 10
  points), support tickets opened in the 90 days before, and ARR (per
  doubling, ``log2``). A feature missing for most decisions (its table is
  not given) is left out; decisions missing a feature that is kept are
  left out of the fit (``n`` counts what was used).
- **Expansion model**: a logistic model of "expanded" against "renewed
  flat" (the decisions that kept their ARR or grew it), on the health
  score and, for each product feature, whether the account used it in the
  90 days to that day.
- **Too few events**: a model is fitted only with at least
  ``min_events_per_term`` (default 10) decisions of the rarer outcome per
  term; with fewer, the terms are cut to what the events allow (the most
  widely used features first) and with none left it is not fitted and says
  why. A model that does not converge or separates perfectly says so.
- **Out-of-time validation**: the cut-off is the decision date below which
  the oldest ``1 - test_share`` (default 70%) of decisions fall; the model
  is fitted on decisions dated on or before it and scores the later ones.
  On those: AUC (the chance that a random kept decision scores above a
  random lost one), the Brier score (mean squared error of the probability)
  and the Brier score of always predicting the training base rate, and a
  calibration table (equal-count bins of the predicted probability: mean
  predicted, observed rate, n). The probabilities given for active accounts
  come from the model refitted on every decision of the look-back.
- **Drivers**: for an account, each term's contribution to the log-odds
  against the typical decision (the term's mean in the fit); the drivers
  that lower its probability most are the most negative contributions,
  in words. A feature the account lacks is taken at its mean, and the
  words say so.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd

from ..stats import bh_q_values

TERM_COLUMNS = ["model", "term", "term_name", "odds_ratio", "ci_lower", "ci_upper", "p_value", "q_value", "flagged",
                "n", "events"]

#: Renewal model terms: column of the features frame -> (words, unit shown in drivers).
RENEWAL_TERMS = {
    "health_per_10": "health score (per 10 points)",
    "usage_per_10": "usage score (per 10 points)",
    "tickets": "support tickets opened in the previous 90 days (per ticket)",
    "log2_arr": "ARR (per doubling)",
}


def renewal_features(frame: pd.DataFrame, lead: int | None = 90) -> pd.DataFrame:
    """The renewal model's terms from ``decisions.csv`` columns at ``lead``
    (``health_score_d90`` ...) or, with ``lead=None``, from plain
    ``health_score``, ``usage_score``, ``tickets`` and ``arr`` columns."""
    suffix = f"_d{lead}" if lead is not None else ""
    out = pd.DataFrame(index=frame.index)
    out["health_per_10"] = frame[f"health_score{suffix}"].astype(float) / 10
    out["usage_per_10"] = frame[f"usage_score{suffix}"].astype(float) / 10
    out["tickets"] = frame[f"tickets{suffix}"].astype(float)
    arr = frame[f"arr{suffix}"].astype(float)
    out["log2_arr"] = np.log2(arr.where(arr > 0))
    return out


def auc(y: np.ndarray, p: np.ndarray) -> float:
    """Area under the ROC curve: the probability that a random positive
    scores above a random negative (ties count half); NaN without both."""
    from scipy.stats import rankdata

    y = np.asarray(y, dtype=bool)
    positives, negatives = int(y.sum()), int((~y).sum())
    if positives == 0 or negatives == 0:
        return float("nan")
    ranks = rankdata(p)
    return float((ranks[y].sum() - positives * (positives + 1) / 2) / (positives * negatives))


def calibration(y: np.ndarray, p: np.ndarray, bins: int = 10) -> list[dict]:
    """Equal-count bins of the predicted probability: per bin the mean
    predicted, the observed rate and n (fewer bins for small samples: at
    least 10 decisions a bin)."""
    order = np.argsort(p, kind="stable")
    bins = max(1, min(bins, len(p) // 10))
    out = []
    for part in np.array_split(order, bins):
        if len(part):
            out.append({"predicted": float(np.mean(p[part])), "observed": float(np.mean(y[part])), "n": int(len(part))})
    return out


def cutoff_date(dates: pd.Series, test_share: float):
    """The out-of-time cut-off: the latest decision date such that the
    decisions on or before it are at most ``1 - test_share`` of all (ties
    stay together); None when no split leaves decisions on both sides."""
    days = pd.to_datetime(dates).sort_values().reset_index(drop=True)
    if len(days) < 2:
        return None
    keep = int(math.floor(len(days) * (1 - test_share)))
    candidates = days[days <= days.iloc[max(keep - 1, 0)]]
    cut = candidates.iloc[-1]
    if (days <= cut).sum() > keep and keep > 0:  # a tie straddles the split: cut before it
        earlier = days[days < cut]
        if earlier.empty:
            return None
        cut = earlier.iloc[-1]
    if (days > cut).sum() == 0:
        return None
    return cut.date()


def usable_terms(data: pd.DataFrame, terms: list[str], y: str, min_events_per_term: int) -> tuple[list[str], str | None]:
    """Terms that vary and that the rarer outcome can support (see the
    module docstring), in the given order; and why a term was cut or the
    model cannot be fitted."""
    present = [t for t in terms if data[t].notna().mean() >= 0.5]
    rows = data.dropna(subset=present + [y])
    present = [t for t in present if rows[t].nunique() > 1]
    rows = data.dropna(subset=present + [y])
    rare = int(min(rows[y].sum(), len(rows) - rows[y].sum())) if len(rows) else 0
    allowed = rare // max(int(min_events_per_term), 1)
    if allowed == 0 or not present:
        need = max(int(min_events_per_term), 1)
        return [], (f"only {rare} decision(s) of the rarer outcome among {len(rows)}: too few for a model "
                    f"(at least {need} per term)" if present else "no feature varies across the decisions")
    note = None
    if allowed < len(present):
        note = (f"{len(present) - allowed} term(s) left out: {rare} decisions of the rarer outcome allow "
                f"{allowed} term(s) at {min_events_per_term} per term")
    return present[:allowed], note


#: A coefficient beyond this many log-odds (an odds ratio past e^30 per
#: unit) is a fit run away on separated data, not an estimate.
MAX_LOG_ODDS = 30.0


def fit_logit(data: pd.DataFrame, y: str, terms: list[str]):
    """statsmodels ``smf.logit`` of ``y`` on ``terms`` over complete rows;
    returns (result, rows used, reason) with result None and the reason
    when it cannot be fitted."""
    import statsmodels.formula.api as smf
    from statsmodels.tools.sm_exceptions import ConvergenceWarning, PerfectSeparationError

    rows = data.dropna(subset=terms + [y]).astype({y: float})
    formula = f"{y} ~ " + " + ".join(terms)
    try:
        # A linear predictor far from 0 overflows the logistic's exp on the
        # way to the fit; that is no error (the probability is 0 or 1), and an
        # unusable fit shows in its coefficients, checked below.
        with warnings.catch_warnings(), np.errstate(over="ignore", under="ignore"):
            warnings.simplefilter("error", ConvergenceWarning)
            warnings.filterwarnings("error", message=".*separation.*")
            result = smf.logit(formula, data=rows).fit(disp=False, maxiter=200)
    except (PerfectSeparationError, ConvergenceWarning, np.linalg.LinAlgError) as exc:
        return None, rows, f"the model could not be fitted ({type(exc).__name__}: {str(exc)[:120]})"
    except Warning as exc:  # statsmodels' perfect-separation warning, raised above
        return None, rows, f"the model could not be fitted ({str(exc)[:120]})"
    params = result.params.to_numpy(float)
    if not np.isfinite(params).all() or np.abs(params).max(initial=0.0) > MAX_LOG_ODDS:
        return None, rows, ("the model could not be fitted: a feature separates the outcomes almost perfectly, so "
                            "its odds ratio is not finite")
    return result, rows, None


def term_table(result, model: str, names: dict[str, str], y: pd.Series, alpha: float = 0.05) -> pd.DataFrame:
    """Odds ratios of a fitted model with 95% intervals and p-values, BH
    q-values over its terms; columns :data:`TERM_COLUMNS`."""
    params = result.params.drop("Intercept")
    ci = result.conf_int().drop("Intercept")
    p = result.pvalues.drop("Intercept")
    q = bh_q_values(p)
    table = pd.DataFrame({
        "model": model, "term": params.index, "term_name": [names.get(t, t) for t in params.index],
        "odds_ratio": np.exp(params.to_numpy()), "ci_lower": np.exp(ci[0].to_numpy()),
        "ci_upper": np.exp(ci[1].to_numpy()), "p_value": p.to_numpy(float), "q_value": q,
        "n": int(result.nobs), "events": int(y.sum()),
    })
    table["flagged"] = table["q_value"] < alpha
    return table[TERM_COLUMNS]


def validate_out_of_time(data: pd.DataFrame, y: str, terms: list[str], dates: pd.Series, test_share: float,
                         min_events_per_term: int, event: int = 0) -> dict:
    """``model_validation.json``'s figures for one model (see the module
    docstring); nulls with ``reason`` where it cannot be done. ``events_*``
    count the decisions with ``y == event`` (churn, ``y`` = 0, for the
    renewal model; expansion, ``y`` = 1, for the expansion model)."""
    out = {"cutoff_date": None, "n_train": 0, "n_test": 0, "events_train": 0, "events_test": 0, "auc": None,
           "brier": None, "brier_base_rate": None, "calibration": [], "reason": None, "terms": list(terms)}
    complete = data.dropna(subset=terms + [y])
    cut = cutoff_date(dates[complete.index], test_share) if len(complete) else None
    if cut is None:
        out["reason"] = "the decisions do not span two dates, so none is newer than a cut-off"
        return out
    out["cutoff_date"] = cut.isoformat()
    older = pd.to_datetime(dates[complete.index]) <= pd.Timestamp(cut)
    train, test = complete[older], complete[~older]
    out.update(n_train=int(len(train)), n_test=int(len(test)), events_train=int((train[y] == event).sum()),
               events_test=int((test[y] == event).sum()))
    kept, reason = usable_terms(train, terms, y, min_events_per_term)
    if reason and not kept:
        out["reason"] = f"before the cut-off, {reason}"
        return out
    result, _, reason = fit_logit(train, y, kept)
    if result is None:
        out["reason"] = reason
        return out
    with np.errstate(over="ignore", under="ignore"):
        p = np.asarray(result.predict(test), dtype=float)
    yt = test[y].to_numpy(float)
    base = float(train[y].mean())
    if yt.min() == yt.max():
        out["reason"] = "the decisions after the cut-off all had the same outcome, so the AUC is not defined"
    out.update(auc=None if out["reason"] else auc(yt, p), brier=float(np.mean((p - yt) ** 2)),
               brier_base_rate=float(np.mean((base - yt) ** 2)), calibration=calibration(yt, p),
               base_rate_train=base, terms=kept)
    return out


def drivers_in_words(result, frame: pd.DataFrame, names: dict[str, str], describe, top: int = 2) -> list[str]:
    """Per row of ``frame``, the terms that lower the probability most
    against the fit's mean, in words (``describe(term, value, mean)``)."""
    means = result.model.data.frame[list(result.params.index.drop("Intercept"))].mean()
    params = result.params.drop("Intercept")
    texts = []
    for _, row in frame.iterrows():
        parts = []
        contributions = {t: params[t] * ((row[t] if pd.notna(row[t]) else means[t]) - means[t]) for t in params.index}
        lowering = sorted((c, t) for t, c in contributions.items() if c < -1e-9)
        for c, t in lowering[:top]:
            parts.append(describe(t, row[t], means[t]))
        missing = [names.get(t, t).split(" (")[0] for t in params.index if pd.isna(row[t])]
        text = "; ".join(parts) if parts else "nothing lowers it below the typical decision"
        if missing:
            text += f" (not known, so taken as typical: {', '.join(missing)})"
        texts.append(text)
    return texts


def describe_renewal_term(term: str, value, mean) -> str:
    """One driver of the renewal model in words."""
    if pd.isna(value):
        value = mean
    if term == "health_per_10":
        return f"health score {value * 10:.0f} (typical {mean * 10:.0f})"
    if term == "usage_per_10":
        return f"usage score {value * 10:.0f} (typical {mean * 10:.0f})"
    if term == "tickets":
        return f"{value:.0f} support tickets in 90 days (typical {mean:.1f})"
    if term == "log2_arr":
        return f"ARR {2 ** value:,.0f} (typical {2 ** mean:,.0f})"
    if term.startswith("uses_"):
        feature = term.removeprefix("uses_")
        return f"does not use {feature}" if value < 0.5 else f"uses {feature}"
    return f"{term} {value:.3g} (typical {mean:.3g})"


def predict(result, frame: pd.DataFrame) -> np.ndarray:
    """Probabilities for ``frame``, a missing feature taken at the fit's mean."""
    terms = list(result.params.index.drop("Intercept"))
    means = result.model.data.frame[terms].mean()
    with np.errstate(over="ignore", under="ignore"):  # exp of a large predictor: a probability of 0 or 1
        return np.asarray(result.predict(frame[terms].fillna(means)), dtype=float)
