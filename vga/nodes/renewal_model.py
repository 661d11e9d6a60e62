"""Renewal and expansion probability (shown in step 4): two readable
logistic models on point-in-time features, validated out of time, and
every active account's probability with what lowers it."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..inputs import Inputs
from ..outputs import (CHURNED_CUSTOMERS_JSON, DECISIONS_CSV, MODEL_TERMS_CSV, MODEL_VALIDATION_JSON,
    RENEWAL_MODEL_JSON, RENEWAL_SCORES_CSV)
from ..analysis.models import (RENEWAL_TERMS, TERM_COLUMNS, describe_renewal_term, drivers_in_words, fit_logit,
                               predict, renewal_features, term_table, usable_terms, validate_out_of_time)
from ..analysis.retention import arr_at, arr_for_pairs
from ..analysis.scores import scores_for_pairs, ticket_counts
from . import Context, Node, Output
from ..analysis.frames import account_names

LEAD = 90  # the definitions' lead for the renewal model's features
VALIDATION_KEYS = ("cutoff_date", "n_train", "n_test", "events_train", "events_test", "auc", "brier",
                   "brier_base_rate", "calibration")


def _empty_validation(reason: str) -> dict:
    out = {k: None for k in VALIDATION_KEYS}
    out.update(calibration=[], reason=reason, n_train=0, n_test=0, events_train=0, events_test=0)
    return out


def _feature_use(inputs: Inputs, pairs: pd.DataFrame, features: list[str]) -> pd.DataFrame:
    """``uses_<feature>`` (0/1) for each pair in the 90 days to its day."""
    from ..analysis.usage import pair_feature_use

    keyed = pairs.assign(pair=np.arange(len(pairs)))
    used = pair_feature_use(inputs.events.table(), keyed, features).set_index("pair")
    out = pd.DataFrame(index=pairs.index)
    for feature in features:
        column = used[feature] if feature in used.columns else pd.Series(dtype=bool)
        out[f"uses_{feature}"] = column.reindex(keyed["pair"]).fillna(False).astype(float).to_numpy()
    return out


def compute(run: Context, upstream: dict) -> dict:
    analysis, models = run.settings.analysis, run.settings.models
    per_term, share = int(models.min_events_per_term), float(models.test_share)
    alpha = float(analysis.alpha)
    decisions = upstream[DECISIONS_CSV]
    reason = upstream[CHURNED_CUSTOMERS_JSON].get("reason")
    if not reason and (decisions is None or decisions.empty):
        reason = "no renewal decisions in the look-back window"
    facts = {"lead_days": LEAD, "reason": reason, "min_events_per_term": per_term, "test_share": share,
             "renewal": {"reason": reason, "terms": [], "note": None},
             "expansion": {"reason": reason, "terms": [], "note": None}}
    out = {RENEWAL_MODEL_JSON: facts, MODEL_VALIDATION_JSON: _empty_validation(reason),
           MODEL_TERMS_CSV: None, RENEWAL_SCORES_CSV: None}
    if reason:
        return out
    decisions = decisions.reset_index(drop=True)
    dates = pd.to_datetime(decisions["decision_date"])
    data = renewal_features(decisions, LEAD)
    data["kept"] = (decisions["outcome"] != "churned").astype(float)
    terms, note = usable_terms(data, list(RENEWAL_TERMS), "kept", per_term)
    facts["renewal"].update(terms=terms, note=note)
    tables = []
    validation = _empty_validation(None)
    renewal = None
    if not terms:
        facts["renewal"]["reason"] = note
        validation = _empty_validation(note)
    else:
        validation = validate_out_of_time(data, "kept", terms, dates, share, per_term, event=0)
        renewal, rows, why = fit_logit(data, "kept", terms)
        if renewal is None:
            facts["renewal"]["reason"] = why
        else:
            tables.append(term_table(renewal, "renewal", RENEWAL_TERMS, 1 - rows["kept"], alpha))
    validation = {**{k: validation.get(k) for k in VALIDATION_KEYS}, **validation}
    out[MODEL_VALIDATION_JSON] = validation

    # Expansion among the decisions that kept their ARR or grew it.
    expansion, names = None, {"health_per_10": RENEWAL_TERMS["health_per_10"]}
    flat_or_up = decisions["outcome"].isin(["renewed", "expanded"])
    exp = data.loc[flat_or_up, ["health_per_10"]].copy()
    exp["expanded"] = (decisions.loc[flat_or_up, "outcome"] == "expanded").astype(float)
    candidates = ["health_per_10"]
    if run.inputs.events is not None and flat_or_up.any():
        from ..analysis.usage import top_features

        features = top_features(run.inputs.events.table(), 30)
        pairs = pd.DataFrame({"account_id": decisions.loc[flat_or_up, "account_id"].to_numpy(),
                              "day": (dates[flat_or_up] - pd.Timedelta(days=LEAD)).to_numpy()}, index=exp.index)
        use = _feature_use(run.inputs, pairs, features)
        exp = exp.join(use)
        # most widely used first: the terms the events allow are kept in this order
        ranked = sorted(use.columns, key=lambda c: (-use[c].mean(), c))
        candidates += ranked
        names.update({c: f"uses {c.removeprefix('uses_').replace('_', ' ')} (yes against no)" for c in use.columns})
    exp_terms, exp_note = usable_terms(exp, candidates, "expanded", per_term)
    facts["expansion"].update(terms=exp_terms, note=exp_note)
    if exp_terms:
        validation["expansion"] = validate_out_of_time(exp, "expanded", exp_terms, dates[flat_or_up], share, per_term,
                                                       event=1)
        expansion, rows, why = fit_logit(exp, "expanded", exp_terms)
        if expansion is None:
            facts["expansion"]["reason"] = why
        else:
            tables.append(term_table(expansion, "expansion", names, rows["expanded"], alpha))
    else:
        facts["expansion"]["reason"] = exp_note
    out[MODEL_TERMS_CSV] = pd.concat(tables, ignore_index=True) if tables else None

    # Every active account, as of the as-of date.
    accounts = run.inputs.table("accounts")
    arr_now = arr_at(accounts, run.inputs.table("renewals"), run.period.as_of)
    active = arr_now[arr_now > 0].index.astype(str)
    scores = pd.DataFrame({"account_id": active})
    nxt = accounts.drop_duplicates("account_id").set_index("account_id").get("renewal_date")
    scores["next_decision_date"] = scores["account_id"].map(nxt) if nxt is not None else pd.NaT
    scores["renewal_probability"] = np.nan
    if renewal is not None and validation.get("auc") is None:
        # A model never checked on decisions it had not seen does not rank accounts for action.
        facts["renewal"]["not_scored"] = ("the model could not be checked on newer decisions "
                                          f"({validation.get('reason')}), so it ranks no account")
        renewal = None
    scores["top_drivers"] = facts["renewal"]["reason"] or facts["renewal"].get("not_scored") or ""
    scores["expansion_probability"] = np.nan
    if len(scores) and (renewal is not None or expansion is not None):
        pairs = pd.DataFrame({"account_id": scores["account_id"], "day": pd.Timestamp(run.period.as_of)})
        now = scores_for_pairs(run.inputs, pairs, run.settings)
        now["arr"] = arr_for_pairs(accounts, run.inputs.table("renewals"), pairs).to_numpy()
        now["tickets"] = ticket_counts(run.inputs, pairs, run.settings).to_numpy()
        features = renewal_features(now, lead=None)
        if renewal is not None:
            scores["renewal_probability"] = predict(renewal, features)
            scores["top_drivers"] = drivers_in_words(renewal, features, RENEWAL_TERMS, describe_renewal_term)
        if expansion is not None:
            extra = [t for t in expansion.params.index if t.startswith("uses_")]
            if extra:
                features = features.join(_feature_use(run.inputs, pairs, [t.removeprefix("uses_") for t in extra]))
            scores["expansion_probability"] = predict(expansion, features)
    names = account_names(accounts, analysis)
    scores["account_name"] = scores["account_id"].map(names[~names.index.duplicated()]).fillna("")
    out[RENEWAL_SCORES_CSV] = scores.sort_values(["renewal_probability", "account_id"], na_position="last")\
        .reset_index(drop=True)
    return out


NODE = Node(
    key="renewal_model", title="Renewal and expansion probability", compute=compute,
    needs=("churned_customers",),
    outputs=(
        Output(RENEWAL_MODEL_JSON, "the lead of the features, each model's terms, and why a model was not fitted"),
        Output(MODEL_VALIDATION_JSON, "the renewal model validated out of time: cut-off, counts, AUC, Brier "
                                        "scores, calibration bins (and the same for the expansion model)"),
        Output(MODEL_TERMS_CSV, "odds ratio per term of the renewal and expansion models, 95% interval, p and q",
               {c: ("str" if c in ("model", "term", "term_name") else "bool" if c == "flagged"
                    else "int" if c in ("n", "events") else "float") for c in TERM_COLUMNS}, optional=True),
        Output(RENEWAL_SCORES_CSV, "every active account's renewal probability, its next decision date, what "
                                     "lowers it most, and its expansion probability",
               {"account_id": "str", "next_decision_date": "date", "renewal_probability": "float",
                "top_drivers": "str", "expansion_probability": "float", "account_name": "str"}, optional=True),
    ),
)
