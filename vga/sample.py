"""Synthetic data for a fictional SaaS company, with planted effects.

:func:`write_sample` writes every table of the data contract for
"Northwind Analytics", deterministic by seed, and ``truth.json`` listing what
was planted, so that tests can check the analyses find each effect, and find
nothing where nothing was planted. The history ends on ``DATA_END``; the
sample's natural run period is ``SAMPLE_PERIOD`` (rows after its as-of date
exist on purpose: they must not change figures as of an earlier date).

Planted effects (all listed in ``truth.json``):

(a) Frustrated Power Users churn at twice the rate of Champions.
(b) One region (``LATAM``) churns at a clearly higher rate.
(c) One CSM's book of fewer than 10 accounts churns heavily; too small to
    test, so it must not be flagged.
(d) Not completing the onboarding milestone ``integration_connected`` raises
    churn.
(e) Adopting the ``automations`` feature goes with expansion.
(f) Usage of accounts that churn declines from about four months before.
(g) Bad rows of every kind the contract names, in known numbers.

Nothing else affects churn: segment, vertical, channel partner and the
other CSMs are assigned at random.

With ``effects=False`` (``vga sample --no-effects``) the same company is
drawn with the same random numbers, but (a) to (f) are switched off: every
account churns and expands with the same probability, whatever its quadrant,
region, CSM, milestones or features, and usage does not decline before
churn. An analysis of that sample must flag nothing. The bad rows (g) stay.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

HISTORY_START = date(2024, 10, 1)
DATA_END = date(2026, 10, 31)

#: The sample company's VGA programme (step 1): one workstream is done, one
#: is on track, and one is overdue as of 2026-09-30 although marked on track.
SAMPLE_PROGRAMME = """
[programme]
sponsor = "Chief Customer Officer"
task_force = ["Customer Success lead", "Product manager, onboarding", "Revenue operations analyst"]
[[programme.workstreams]]
name = "Data gathering"
owner = "Revenue operations"
start = "2026-07-01"
due = "2026-07-31"
status = "done"
[[programme.workstreams]]
name = "Onboarding fix"
owner = "Product, onboarding"
start = "2026-08-01"
due = "2026-09-15"
status = "on track"
[[programme.workstreams]]
name = "Frustrated Power User saves"
owner = "Customer Success"
start = "2026-08-15"
due = "2026-12-15"
status = "at risk"
"""
SAMPLE_PERIOD = "2026Q3"
SAMPLE_AS_OF = date(2026, 9, 30)
WINDOW_START = date(2025, 9, 30)

REGIONS = {"NA": 0.40, "EMEA": 0.30, "APAC": 0.18, "LATAM": 0.12}
HIGH_CHURN_REGION = "LATAM"
REGION_CHURN_MULTIPLIER = 2.2
SEGMENTS = {"SMB": 0.5, "Mid-Market": 0.35, "Enterprise": 0.15}
VERTICALS = ["Software", "Healthcare", "Financial Services", "Retail", "Manufacturing"]
PARTNERS = ["", "", "", "", "", "", "Bluebird Resellers", "Cobalt Partners", "Summit Channel"]
CSMS = [
    "Avery Stone", "Jordan Blake", "Riley Chen", "Morgan Diaz", "Casey Patel", "Taylor Brooks",
    "Jamie Novak", "Drew Okafor", "Skyler Lind", "Reese Tanaka",
]
SMALL_BOOK_CSM = "Quinn Harper"
SMALL_BOOK_SIZE = 7
SMALL_BOOK_CHURN = 0.75
BASE_CHURN = {  # per annual renewal, by the account's quadrant
    "Champions": 0.08,
    "Frustrated Power Users": 0.16,
    "Relationship-Dependent": 0.12,
    "Churn Risk": 0.26,
}
MILESTONES = ["kickoff_held", "admin_setup", "integration_connected", "first_dashboard"]
RISKY_MILESTONE = "integration_connected"
MILESTONE_CHURN_MULTIPLIER = 1.8
CORE_FEATURES = ["dashboards", "reports", "data_import", "alerts", "sharing"]
OTHER_FEATURES = ["automations", "api", "exports", "admin_settings", "search"]
EXPANSION_FEATURE = "automations"
VALUE_EVENT = "sharing"
DECLINE_MONTHS = 4
WORKFLOWS = {"publish_report": ["select_data", "map_fields", "review", "publish"]}
SHARED_DOMAIN = "shared-holdings.example"


def _day(d: date) -> np.datetime64:
    return np.datetime64(d.isoformat(), "D")


def _names(rng: np.random.Generator, n: int) -> list[str]:
    first = ["Acme", "Blue", "Cedar", "Delta", "Ember", "Falcon", "Granite", "Harbor", "Iris", "Juniper",
             "Kestrel", "Lumen", "Maple", "Nimbus", "Onyx", "Pioneer", "Quartz", "Riverside", "Summit", "Tidal"]
    second = ["Labs", "Logistics", "Health", "Capital", "Foods", "Systems", "Retail", "Works", "Energy", "Media"]
    out = [f"{first[i % 20]} {second[(i // 20) % 10]} {i // 200 + 1}" for i in rng.permutation(n)]
    # Strings a report must escape, and one that needs CSV quoting.
    if n > 3:
        out[1] = '<script>alert("vga")</script> & Sons'
        out[2] = 'Smith, Jones & "Partners"\nHoldings'
    return out


def _choice(rng, options: dict | list, size: int):
    if isinstance(options, dict):
        return rng.choice(list(options), size=size, p=np.array(list(options.values())) / sum(options.values()))
    return rng.choice(options, size=size)


def _iso(ts) -> np.ndarray:
    return np.datetime_as_string(np.asarray(ts, dtype="datetime64[s]"), unit="s")


#: Churn and expansion per annual renewal when no effect is planted.
NO_EFFECT_CHURN, NO_EFFECT_EXPANSION = 0.12, 0.15


#: Accounts per chunk of product events when they are streamed (see :func:`generate`).
EVENT_CHUNK_ACCOUNTS = 2_000


def generate(accounts: int = 1500, seed: int = 7, minimal: bool = False,
             effects: bool = True, events_sink=None) -> tuple[dict[str, pd.DataFrame], dict]:
    """Build the sample tables (as text frames) and the truth record;
    ``effects=False`` plants none of (a) to (f) (see the module's text).

    ``events_sink``: stream the product events instead of returning them.
    They are then drawn for :data:`EVENT_CHUNK_ACCOUNTS` accounts at a time,
    from a random stream of their own, and each chunk (as text) is handed to
    ``events_sink(frame)`` and let go, so memory holds one chunk, not the
    company's events; the bad event rows come as one last chunk. The
    returned tables then hold no ``usage_events``. The same planted effects,
    other draws: a streamed company is not the in-memory one of its seed."""
    if accounts < 60:
        raise ValueError("the sample needs at least 60 accounts to plant its effects")
    rng = np.random.default_rng(seed)
    n = accounts
    ids = np.array([f"{i + 1:06d}" for i in range(n)])  # leading zeros: ids are text
    segment = _choice(rng, SEGMENTS, n)
    region = _choice(rng, REGIONS, n)
    vertical = _choice(rng, VERTICALS, n)
    partner = _choice(rng, PARTNERS, n)
    csm = _choice(rng, CSMS, n)
    small_book = rng.choice(n, size=SMALL_BOOK_SIZE, replace=False)
    csm[small_book] = SMALL_BOOK_CSM
    domain = np.array([f"acct{i + 1:06d}.example" for i in range(n)], dtype=object)
    domain[[3, 4]] = SHARED_DOMAIN  # two accounts share a domain: ambiguous for identity resolution

    # Contract starts: most before the window, some new logos inside it, a few after the as-of date.
    kind = rng.choice(["old", "new", "future"], size=n, p=[0.86, 0.12, 0.02])
    kind[small_book] = "old"  # the small book is in the retention cohort
    start = np.where(
        kind == "old",
        _day(date(2019, 1, 1)) + rng.integers(0, (_day(WINDOW_START) - _day(date(2019, 1, 1))).astype(int) - 30, n),
        np.where(
            kind == "new",
            _day(WINDOW_START) + rng.integers(1, 366, n),
            _day(SAMPLE_AS_OF) + rng.integers(1, 31, n),
        ),
    ).astype("datetime64[D]")

    usage_high = rng.random(n) < 0.55
    health_high = rng.random(n) < 0.6
    quadrant = np.select(
        [usage_high & health_high, usage_high & ~health_high, ~usage_high & health_high],
        ["Champions", "Frustrated Power Users", "Relationship-Dependent"],
        default="Churn Risk",
    )
    adopts_automations = rng.random(n) < 0.35
    milestone_done = {m: rng.random(n) < p for m, p in zip(MILESTONES, [0.95, 0.85, 0.7, 0.8])}
    churn_p = np.vectorize(BASE_CHURN.get)(quadrant).astype(float)
    churn_p *= np.where(region == HIGH_CHURN_REGION, REGION_CHURN_MULTIPLIER, 1.0)
    churn_p *= np.where(~milestone_done[RISKY_MILESTONE], MILESTONE_CHURN_MULTIPLIER, 1.0)
    churn_p = np.minimum(churn_p, 0.9)
    churn_p[csm == SMALL_BOOK_CSM] = SMALL_BOOK_CHURN
    expand_p = np.where(adopts_automations, 0.35, 0.08)
    if not effects:  # the same draws, no effect: every account alike
        churn_p = np.full(n, NO_EFFECT_CHURN)
        expand_p = np.full(n, NO_EFFECT_EXPANSION)

    base_arr = np.round(
        np.select(
            [segment == "SMB", segment == "Mid-Market"],
            [rng.uniform(8_000, 30_000, n), rng.uniform(30_000, 120_000, n)],
            default=rng.uniform(120_000, 400_000, n),
        ),
        -2,
    )

    # Annual renewals on contract anniversaries between HISTORY_START and DATA_END.
    renewal_rows = []
    churn_day = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    current_arr = np.where(start > _day(DATA_END), base_arr, base_arr)
    for i in range(n):
        s = pd.Timestamp(start[i])
        arr = base_arr[i]
        year = max(s.year + 1, HISTORY_START.year)
        while True:
            try:
                anniversary = s.replace(year=year)
            except ValueError:  # 29 February
                anniversary = s.replace(year=year, day=28)
            year += 1
            if anniversary.date() < HISTORY_START:
                continue
            if anniversary.date() > DATA_END:
                break
            roll = rng.random()
            reason = ""
            # The small CSM book was healthy until the retention window.
            p_churn = 0.0 if (effects and csm[i] == SMALL_BOOK_CSM and anniversary.date() <= WINDOW_START) else churn_p[i]
            if roll < p_churn:
                after = 0.0
                reason = rng.choice(["budget", "competitor", "missing_feature", "poor_support", "champion_left"])
            elif rng.random() < expand_p[i]:
                after = float(np.round(arr * rng.uniform(1.1, 1.5), -2))
            elif rng.random() < 0.07:
                after = float(np.round(arr * rng.uniform(0.6, 0.9), -2))
            else:
                after = arr
            outcome = "churned" if after == 0 else "expanded" if after > arr else "downgraded" if after < arr else "renewed"
            renewal_rows.append((ids[i], anniversary.date().isoformat(), arr, after, outcome, reason))
            arr = after
            if after == 0:
                churn_day[i] = np.datetime64(anniversary.date().isoformat(), "D")
                break
        current_arr[i] = arr
    renewals = pd.DataFrame(
        renewal_rows, columns=["account_id", "renewal_date", "arr_before", "arr_after", "outcome", "churn_reason"]
    )
    next_renewal = []
    for i in range(n):
        s = pd.Timestamp(start[i])
        y = max(DATA_END.year, s.year + 1)
        nr = s.replace(year=y, day=min(s.day, 28))
        if nr.date() <= DATA_END:
            nr = nr.replace(year=y + 1)
        next_renewal.append("" if not np.isnat(churn_day[i]) else None)
        next_renewal[-1] = nr.date().isoformat() if np.isnat(churn_day[i]) else ""

    accounts_df = pd.DataFrame({
        "account_id": ids,
        "account_name": _names(rng, n),
        "arr": current_arr,
        "segment": segment,
        "region": region,
        "vertical": vertical,
        "csm": csm,
        "channel_partner": partner,
        "domain": domain,
        "contract_start": np.datetime_as_string(start),
        "renewal_date": next_renewal,
    })

    truth = {
        "seed": seed,
        "accounts": n,
        "period": SAMPLE_PERIOD,
        "as_of": SAMPLE_AS_OF.isoformat(),
        "window_start": WINDOW_START.isoformat(),
        "history": [HISTORY_START.isoformat(), DATA_END.isoformat()],
        "planted": {
            "quadrant_churn": {
                "description": "churn per annual renewal by quadrant at the start of the retention window",
                "churn_probability": BASE_CHURN,
                "frustrated_vs_champions_ratio": BASE_CHURN["Frustrated Power Users"] / BASE_CHURN["Champions"],
            },
            "region": {"dimension": "region", "value": HIGH_CHURN_REGION, "churn_multiplier": REGION_CHURN_MULTIPLIER},
            "small_csm_book": {
                "dimension": "csm", "value": SMALL_BOOK_CSM, "accounts": SMALL_BOOK_SIZE,
                "churn_probability": SMALL_BOOK_CHURN, "must_be_flagged": False,
            },
            "onboarding_milestone": {"milestone": RISKY_MILESTONE, "churn_multiplier_if_not_completed": MILESTONE_CHURN_MULTIPLIER},
            "expansion_feature": {"feature": EXPANSION_FEATURE, "expansion_probability": {"adopters": 0.35, "others": 0.08}},
            "usage_decline": {"months_before_churn": DECLINE_MONTHS, "usage_at_churn": 0.15},
            "no_effect_dimensions": ["segment", "vertical", "channel_partner"],
            "no_effect_behaviours": ["training", "milestones other than the planted one",
                                     "features other than the expansion feature, for expansion"],
        },
        "latent": {
            "usage_high_share": float(usage_high.mean()),
            "health_high_share": float(health_high.mean()),
        },
    }
    if not effects:
        truth["planted"] = {"none": {"churn_probability": NO_EFFECT_CHURN, "expansion_probability": NO_EFFECT_EXPANSION,
                                     "description": "no effect planted: nothing may be flagged"}}
    truth["effects"] = effects
    if minimal:
        accounts_df["health_score"] = np.round(np.clip(np.where(health_high, rng.normal(74, 9, n), rng.normal(33, 9, n)), 0, 100), 1)
        accounts_df["usage_score"] = np.round(np.clip(np.where(usage_high, rng.normal(76, 10, n), rng.normal(28, 10, n)), 0, 100), 1)
        tables = {"accounts": accounts_df, "renewals": renewals}
        truth["bad_rows"] = {}
        return _text_tables(tables), truth

    end_of_life = np.where(np.isnat(churn_day), _day(DATA_END), churn_day)
    begin = np.maximum(start, _day(HISTORY_START))
    tables = {"accounts": accounts_df, "renewals": renewals}
    users = _users(rng, ids, segment, domain)
    tables["users"] = users
    if events_sink is None:
        tables["usage_events"] = _events(rng, ids, users, domain, usage_high, adopts_automations, begin, end_of_life,
                                         churn_day, decline=effects)
    else:
        tables["usage_events"] = _stream_events(np.random.default_rng([seed, 1]), events_sink, ids, users, domain,
                                                usage_high, adopts_automations, begin, end_of_life, churn_day, effects)
    if effects:
        truth["planted"]["usage_decline"]["note"] = "session rate falls linearly from 1x to 0.15x over the last four months before churn"
    tables["workflow_runs"] = _workflows(rng, ids, usage_high, begin, end_of_life)
    # About one account in ten is not covered by the CS platform: its health
    # comes from the documented composite of surveys, tickets and touchpoints.
    uncovered = rng.random(n) < 0.1
    health = _health(rng, ids, health_high, begin, end_of_life)
    tables["health_scores"] = health[~health["account_id"].isin(ids[uncovered])].reset_index(drop=True)
    truth["planted"]["health_composite"] = {
        "description": "accounts without health_scores rows; their latent health level",
        "accounts": {str(a): bool(h) for a, h in zip(ids[uncovered], health_high[uncovered])},
    }
    tables["support_tickets"] = _tickets(rng, ids, health_high, begin, end_of_life)
    tables["surveys"] = _surveys(rng, ids, health_high, begin, end_of_life)
    tables["touchpoints"] = _touchpoints(rng, ids, health_high, csm, begin, end_of_life)
    tables["onboarding"] = _onboarding(rng, ids, start, milestone_done)
    tables["training"] = _training(rng, ids, users, begin, end_of_life)
    tables["interviews"] = _interviews(rng, ids, churn_day)
    tables["interventions"] = _interventions(rng, ids, quadrant, begin, end_of_life)
    tables["product_fixes"] = _fixes(rng, ids, begin, end_of_life)
    text = _text_tables(tables)
    truth["bad_rows"] = _plant_bad_rows(rng, text, ids)
    if events_sink is not None:  # the bad rows are the last chunk; the one good row they copy was streamed already
        events_sink(text.pop("usage_events").iloc[1:].reset_index(drop=True))
    return text, truth


# --------------------------------------------------------------------------
# Table builders (all vectorised where volume matters)


def _users(rng, ids, segment, domain) -> pd.DataFrame:
    seats = np.select([segment == "SMB", segment == "Mid-Market"], [rng.integers(3, 8, len(ids)),
                      rng.integers(6, 16, len(ids))], default=rng.integers(12, 30, len(ids)))
    acc = np.repeat(np.arange(len(ids)), seats)
    k = np.concatenate([np.arange(s) for s in seats])
    user_id = np.char.add(np.char.add("u", ids[acc].astype(str)), np.char.add("-", k.astype(str)))
    email = [f"user{kk}@{domain[a] if domain[a] != SHARED_DOMAIN else f'acct{a + 1:06d}.example'}" for a, kk in zip(acc, k)]
    role = rng.choice(["admin", "analyst", "viewer"], size=len(acc), p=[0.15, 0.45, 0.4])
    return pd.DataFrame({"user_id": user_id, "account_id": ids[acc], "email": email, "role": role})


def _events(rng, ids, users, domain, usage_high, automations, begin, end_of_life, churn_day,
            decline: bool = True) -> pd.DataFrame:
    n = len(ids)
    span = (end_of_life - begin).astype(int)
    # Sessions per day, declining before churn (effect f).
    rate = np.where(usage_high, 10 / 30.4, 3 / 30.4)
    decline_days = int(DECLINE_MONTHS * 30.4)
    day_acc, day_off = [], []
    for i in range(n):
        if span[i] <= 0:
            continue
        days = np.arange(span[i] + 1)
        r = np.full(days.shape, rate[i])
        if decline and not np.isnat(churn_day[i]):
            to_churn = (churn_day[i] - begin[i]).astype(int) - days
            factor = np.where(to_churn < decline_days, 0.15 + 0.85 * to_churn / decline_days, 1.0)
            r = r * np.clip(factor, 0.15, 1.0)
        sessions = rng.poisson(r)
        day_acc.append(np.repeat(i, sessions.sum()))
        day_off.append(np.repeat(days, sessions))
    acc = np.concatenate(day_acc)
    off = np.concatenate(day_off)
    m = len(acc)
    session_start = (begin[acc].astype("datetime64[s]") + off.astype("timedelta64[D]")
                     + rng.integers(7 * 3600, 20 * 3600, m).astype("timedelta64[s]"))
    depth = 1 + rng.poisson(np.where(usage_high[acc], 6.0, 1.5))
    # Each account's features: high usage uses most core features, low one or two.
    n_core = np.where(usage_high, rng.integers(4, 6, n), rng.integers(1, 3, n))
    core_perm = np.array([rng.permutation(len(CORE_FEATURES)) for _ in range(n)])
    ev_session = np.repeat(np.arange(m), depth)
    ev_acc = acc[ev_session]
    e = len(ev_session)
    pick = (rng.random(e) * n_core[ev_acc]).astype(int)
    feature = np.array(CORE_FEATURES, dtype=object)[core_perm[ev_acc, pick]]
    extra = rng.random(e)
    feature = np.where(extra < 0.12, rng.choice([f for f in OTHER_FEATURES if f != EXPANSION_FEATURE], e), feature)
    feature = np.where((extra > 0.9) & automations[ev_acc], EXPANSION_FEATURE, feature)
    within = np.concatenate([np.arange(d) for d in depth]) if m else np.array([], dtype=int)
    ts = session_start[ev_session] + (within * rng.integers(20, 240, e)).astype("timedelta64[s]")
    # Users: pick one per session from the account's users.
    user_counts = users.groupby("account_id", sort=False).size().reindex(ids).to_numpy()
    user_offset = np.concatenate([[0], np.cumsum(user_counts)[:-1]])
    session_user = user_offset[acc] + (rng.random(m) * user_counts[acc]).astype(int)
    user_id = users["user_id"].to_numpy()[session_user][ev_session]
    email = users["email"].to_numpy()[session_user][ev_session]
    account_col = ids[ev_acc].astype(object)
    # Identity: most events carry account_id; some only a known user; some only an e-mail.
    how = rng.random(e)
    via_users = how < 0.06
    via_domain = (how >= 0.06) & (how < 0.08) & (domain[ev_acc] != SHARED_DOMAIN)
    account_col[via_users | via_domain] = ""
    user_id = user_id.astype(object)
    user_id[via_domain] = np.char.add("guest-", np.arange(via_domain.sum()).astype(str))
    session_id = np.char.add("s", np.arange(m).astype(str))[ev_session]
    order = np.argsort(ts, kind="stable")
    return pd.DataFrame({
        "timestamp": _iso(ts[order]).astype(object) + "Z",
        "account_id": account_col[order],
        "user_id": user_id[order],
        "user_email": email[order],
        "session_id": session_id[order],
        "feature": feature[order],
    })


def _stream_events(rng, sink, ids, users, domain, usage_high, automations, begin, end_of_life, churn_day,
                   decline: bool) -> pd.DataFrame:
    """:func:`_events` a chunk of accounts at a time, each chunk's text handed
    to ``sink``; returns one good row (text) for the bad rows to copy.
    Session and guest ids carry the chunk's number: unique across chunks."""
    sample_row = None
    for chunk, first in enumerate(range(0, len(ids), EVENT_CHUNK_ACCOUNTS)):
        part = slice(first, first + EVENT_CHUNK_ACCOUNTS)
        members = users[users["account_id"].isin(ids[part])]
        frame = _events(rng, ids[part], members, domain[part], usage_high[part], automations[part], begin[part],
                        end_of_life[part], churn_day[part], decline=decline)
        frame["session_id"] = f"c{chunk}" + frame["session_id"].astype(str)
        guest = frame["user_id"].astype(str).str.startswith("guest-")
        frame.loc[guest, "user_id"] = f"guest-c{chunk}-" + frame.loc[guest, "user_id"].astype(str).str[6:]
        text = _text_tables({"usage_events": frame})["usage_events"]
        if sample_row is None and len(text):
            sample_row = text.iloc[[len(text) // 2]]
        sink(text)
    return sample_row.reset_index(drop=True)


def _monthly(begin, end_of_life):
    """(account index, month-end day) for every account-month alive."""
    months = pd.date_range(HISTORY_START, DATA_END, freq="ME").to_numpy().astype("datetime64[D]")
    acc, day = np.meshgrid(np.arange(len(begin)), months, indexing="ij")
    acc, day = acc.ravel(), day.ravel()
    alive = (day >= begin[acc]) & (day <= end_of_life[acc])
    return acc[alive], day[alive]


def _workflows(rng, ids, usage_high, begin, end_of_life) -> pd.DataFrame:
    acc, month_end = _monthly(begin, end_of_life)
    runs = rng.poisson(np.where(usage_high[acc], 4, 1.5))
    acc, month_end = np.repeat(acc, runs), np.repeat(month_end, runs)
    k = len(acc)
    started = month_end.astype("datetime64[s]") - rng.integers(0, 27 * 86400, k).astype("timedelta64[s]")
    done = rng.random(k) < np.where(usage_high[acc], 0.85, 0.4)
    completed = started + rng.integers(600, 3 * 86400, k).astype("timedelta64[s]")
    steps = WORKFLOWS["publish_report"]
    last = rng.choice(steps[:-1], size=k, p=[0.2, 0.6, 0.2])  # most abandoned runs stop at map_fields
    return pd.DataFrame({
        "account_id": ids[acc], "workflow": "publish_report",
        "started_at": _iso(started).astype(object) + "Z",
        "completed_at": np.where(done, _iso(completed).astype(object) + "Z", ""),
        "last_step": np.where(done, steps[-1], last),
    })


def _health(rng, ids, health_high, begin, end_of_life) -> pd.DataFrame:
    acc, month_end = _monthly(begin, end_of_life)
    k = len(acc)
    level = np.where(health_high[acc], 74.0, 34.0)
    comps = {name: np.clip(level + rng.normal(0, 9, k), 0, 100).round(1)
             for name in ("component_support", "component_sentiment", "component_engagement")}
    score = np.mean(np.vstack(list(comps.values())), axis=0).round(1)
    return pd.DataFrame({"account_id": ids[acc], "as_of": np.datetime_as_string(month_end), "score": score, **comps})


def _tickets(rng, ids, health_high, begin, end_of_life) -> pd.DataFrame:
    acc, month_end = _monthly(begin, end_of_life)
    count = rng.poisson(np.where(health_high[acc], 0.4, 1.6))
    acc, month_end = np.repeat(acc, count), np.repeat(month_end, count)
    k = len(acc)
    opened = month_end.astype("datetime64[s]") - rng.integers(0, 27 * 86400, k).astype("timedelta64[s]")
    closed = opened + rng.integers(1800, 9 * 86400, k).astype("timedelta64[s]")
    still_open = rng.random(k) < 0.05
    return pd.DataFrame({
        "ticket_id": np.char.add("T", np.arange(1, k + 1).astype(str)),
        "account_id": ids[acc],
        "opened_at": _iso(opened).astype(object) + "Z",
        "closed_at": np.where(still_open, "", _iso(closed).astype(object) + "Z"),
        "priority": rng.choice(["low", "normal", "high", "urgent"], k, p=[0.3, 0.45, 0.18, 0.07]),
        "category": rng.choice(["billing", "bug", "how-to", "integration", "performance"], k),
        "escalated": np.where(rng.random(k) < np.where(health_high[acc], 0.03, 0.2), "yes", "no"),
        "csat": np.where(rng.random(k) < 0.5, np.clip(np.round(np.where(health_high[acc], rng.normal(4.4, 0.6, k), rng.normal(2.2, 0.9, k))), 1, 5).astype(int).astype(str), ""),
    })


def _surveys(rng, ids, health_high, begin, end_of_life) -> pd.DataFrame:
    acc, month_end = _monthly(begin, end_of_life)
    quarterly = (month_end.astype("datetime64[M]").astype(int) % 3 == 2) & (rng.random(len(acc)) < 0.6)
    acc, month_end = acc[quarterly], month_end[quarterly]
    k = len(acc)
    nps = np.clip(np.round(np.where(health_high[acc], rng.normal(8.6, 1.2, k), rng.normal(3.5, 2.0, k))), 0, 10).astype(int)
    comment = rng.choice(["", "", "Great support team", "Reports are slow", "Hard to connect our data",
                          "We love the dashboards", "Pricing is high for what we use"], k)
    return pd.DataFrame({
        "account_id": ids[acc],
        "responded_at": np.datetime_as_string(month_end - rng.integers(0, 20, k).astype("timedelta64[D]")),
        "kind": "NPS", "score": nps.astype(str), "comment": comment,
        "respondent_id": np.char.add("resp-", np.char.zfill(np.arange(k).astype(str), 6)),
    })


def _touchpoints(rng, ids, health_high, csm, begin, end_of_life) -> pd.DataFrame:
    acc, month_end = _monthly(begin, end_of_life)
    keep = rng.random(len(acc)) < 0.5
    acc, month_end = acc[keep], month_end[keep]
    k = len(acc)
    p_neg = np.where(health_high[acc], 0.08, 0.5)
    roll = rng.random(k)
    sentiment = np.where(roll < p_neg, "negative", np.where(roll < p_neg + 0.4, "neutral", "positive"))
    return pd.DataFrame({
        "account_id": ids[acc],
        "occurred_at": _iso(month_end.astype("datetime64[s]") - rng.integers(0, 27 * 86400, k).astype("timedelta64[s]")).astype(object) + "Z",
        "kind": rng.choice(["call", "meeting", "qbr", "email"], k, p=[0.4, 0.3, 0.1, 0.2]),
        "sentiment": sentiment, "csm": csm[acc],
    })


def _onboarding(rng, ids, start, done) -> pd.DataFrame:
    rows = []
    for j, m in enumerate(MILESTONES):
        due = start + np.timedelta64(30 * (j + 1), "D")
        completed = start + rng.integers(5, 30 * (j + 2), len(ids)).astype("timedelta64[D]")
        rows.append(pd.DataFrame({
            "account_id": ids, "milestone": m,
            "completed_at": np.where(done[m], np.datetime_as_string(completed), ""),
            "due_at": np.datetime_as_string(due),
        }))
    return pd.concat(rows, ignore_index=True)


def _training(rng, ids, users, begin, end_of_life) -> pd.DataFrame:
    sample = users.sample(frac=0.3, random_state=int(rng.integers(1 << 30)))
    idx = pd.Index(ids).get_indexer(sample["account_id"])
    # Course dates are spread over the whole history and those after an
    # account left are dropped: before a decision, churning and staying
    # accounts train at the same rate (training has no planted effect).
    lo, hi = begin[idx].astype(int), np.full(len(idx), _day(DATA_END).astype(int))
    day = (lo + (rng.random(len(idx)) * (hi - lo)).astype(int)).astype("datetime64[D]")
    ok = (hi > lo) & (day <= end_of_life[idx])
    return pd.DataFrame({
        "account_id": sample["account_id"].to_numpy()[ok],
        "course": rng.choice(["Getting started", "Advanced dashboards", "Automations 101", "Admin basics"], len(idx))[ok],
        "completed_at": np.datetime_as_string(day[ok]), "user_id": sample["user_id"].to_numpy()[ok],
    })


def _interviews(rng, ids, churn_day) -> pd.DataFrame:
    churned = np.flatnonzero(~np.isnat(churn_day))
    pick = churned[rng.random(len(churned)) < 0.4]
    themes = rng.choice(["integration;onboarding", "pricing", "support;responsiveness", "missing_feature;reporting",
                         "champion_left"], len(pick))
    return pd.DataFrame({
        "account_id": ids[pick], "held_at": np.datetime_as_string(churn_day[pick] + np.timedelta64(10, "D")),
        "source": "churn_interview", "themes": themes,
        "notes": rng.choice(["Could not connect our warehouse.", "Budget cut this year.", "Support took too long.",
                             "Our sponsor left the company."], len(pick)),
    })


def _interventions(rng, ids, quadrant, begin, end_of_life) -> pd.DataFrame:
    at_risk = np.flatnonzero((quadrant == "Churn Risk") | (quadrant == "Frustrated Power Users"))
    pick = at_risk[rng.random(len(at_risk)) < 0.3]
    pick = pick[end_of_life[pick] - begin[pick] > np.timedelta64(60, "D")]
    started = begin[pick] + ((end_of_life[pick] - begin[pick]).astype(int) * rng.random(len(pick)) * 0.8).astype("timedelta64[D]")
    return pd.DataFrame({
        "account_id": ids[pick], "started_at": np.datetime_as_string(started),
        "playbook": rng.choice(["health_recovery", "adoption_push", "executive_alignment"], len(pick)),
        "owner": "CS", "objective": "restore value", "target_date": np.datetime_as_string(started + np.timedelta64(90, "D")),
        "status": rng.choice(["open", "achieved", "missed", "dropped"], len(pick)),
    })


def _fixes(rng, ids, begin, end_of_life) -> pd.DataFrame:
    pick = rng.choice(len(ids), size=max(5, len(ids) // 20), replace=False)
    raised = begin[pick] + rng.integers(0, 200, len(pick)).astype("timedelta64[D]")
    shipped = raised + rng.integers(10, 120, len(pick)).astype("timedelta64[D]")
    done = rng.random(len(pick)) < 0.6
    return pd.DataFrame({
        "fix_id": np.char.add("F", np.arange(1, len(pick) + 1).astype(str)), "account_id": ids[pick],
        "raised_at": np.datetime_as_string(raised),
        "shipped_at": np.where(done, np.datetime_as_string(shipped), ""),
        "confirmed_at": "",
    })


def _text_tables(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    out = {}
    for name, df in tables.items():
        text = df.copy()
        for c in text.columns:
            col = text[c]
            if pd.api.types.is_float_dtype(col):
                text[c] = [("" if pd.isna(v) else (f"{v:.0f}" if float(v).is_integer() else repr(float(v)))) for v in col]
            else:
                text[c] = col.astype(object).where(col.notna(), "").astype(str)
        out[name] = text.reset_index(drop=True)
    return out


# --------------------------------------------------------------------------
# Bad rows (effect g)


def _append(df: pd.DataFrame, rows: list[dict]) -> pd.DataFrame:
    return pd.concat([df, pd.DataFrame(rows).reindex(columns=df.columns).fillna("")], ignore_index=True)


def _plant_bad_rows(rng, t: dict[str, pd.DataFrame], ids) -> dict:
    """Add bad rows of every kind; return the expected counts per table."""
    a = t["accounts"]
    a["notes"] = ""  # an unknown extra column: kept and ignored
    good = a.iloc[10].to_dict()
    orphan = "BAD-NEG-1"
    t["accounts"] = _append(a, [
        {**good, "account_id": "", "account_name": "No id Ltd"},                      # required empty
        {**good, "account_id": "BAD-ARR-1", "arr": "twelve thousand"},                 # invalid required
        {**good, "account_id": orphan, "arr": "-500", "domain": "orphan.example"},     # out of range -> cascade
        {**a.iloc[20].to_dict(), "account_name": "Duplicate of row 21"},              # duplicate key
        {**a.iloc[21].to_dict(), "account_name": "Duplicate of row 22"},              # duplicate key
    ])
    t["accounts"].loc[30, "contract_start"] = "31/12/2020"                            # invalid optional -> blanked
    r = t["renewals"]
    r1 = r.iloc[0].to_dict()
    t["renewals"] = _append(r, [
        {**r1, "arr_after": "n/a"},                                                    # invalid required
        {**r1, "account_id": orphan},                                                  # cascade
        {**r1, "account_id": orphan, "renewal_date": "2026-02-01"},                    # cascade
        {**r1, "account_id": "ZZ-404"},                                                # unknown account
    ])
    flat = t["renewals"].index[(t["renewals"]["outcome"] == "renewed")][:2]
    t["renewals"].loc[flat, "outcome"] = "expanded"                                    # numbers win -> blanked
    s = t["support_tickets"]
    s1 = s.iloc[0].to_dict()
    s.loc[5, "closed_at"] = "2020-01-01T00:00:00Z"                                    # date order
    s.loc[6, "closed_at"] = "2020-01-01T00:00:00Z"
    s.loc[7, "priority"] = "P1"                                                        # blanked
    s.loc[8, "csat"] = "7"                                                             # blanked
    t["support_tickets"] = _append(s, [
        {**s1, "account_id": s1["account_id"]},                                        # duplicate ticket_id
        {**s1, "ticket_id": "T-ORPHAN", "account_id": orphan},                        # cascade
    ])
    sv = t["surveys"]
    t["surveys"] = _append(sv, [{**sv.iloc[0].to_dict(), "score": "11"}])            # nps out of range
    h = t["health_scores"]
    t["health_scores"] = _append(h, [
        {**h.iloc[0].to_dict(), "score": "150"},                                       # out of range
        {**h.iloc[1].to_dict(), "as_of": "yesterday"},                                 # invalid date
    ])
    u = t["users"]
    t["users"] = _append(u, [{**u.iloc[0].to_dict(), "account_id": ids[1]}])          # duplicate user_id
    w = t["workflow_runs"]
    done = w.index[w["completed_at"] != ""][0]
    w.loc[done, "completed_at"] = "2001-01-01T00:00:00Z"                              # date order
    o = t["onboarding"]
    o.loc[o.index[o["completed_at"] != ""][0], "completed_at"] = "soon"               # blanked
    e = t["usage_events"]
    e1 = e.iloc[len(e) // 2].to_dict()
    unresolvable = [{**e1, "account_id": "", "user_id": f"ghost-{k}", "user_email": f"ghost{k}@nowhere.example"} for k in range(5)]
    ambiguous = [{**e1, "account_id": "", "user_id": f"visitor-{k}", "user_email": f"v{k}@{SHARED_DOMAIN}"} for k in range(3)]
    bad_time = [{**e1, "timestamp": "not-a-time"}, {**e1, "timestamp": "2026-13-45T00:00:00Z"}]
    orphan_events = [{**e1, "account_id": orphan} for _ in range(4)]
    t["usage_events"] = _append(e, unresolvable + ambiguous + bad_time + orphan_events)

    return {
        "accounts": {"quarantined": 5, "blanked": 1, "reasons": {"required value is empty": 1, "expected a number": 2, "duplicate account_id": 2}},
        "renewals": {"quarantined": 4, "blanked": 2, "reasons": {"expected a number": 1, "not among the accepted accounts": 3, "the numbers win": 2}},
        "support_tickets": {"quarantined": 4, "blanked": 2, "reasons": {"is before opened_at": 2, "duplicate ticket_id": 1, "not among the accepted accounts": 1}},
        "surveys": {"quarantined": 1, "blanked": 0, "reasons": {"0..10 for nps": 1}},
        "health_scores": {"quarantined": 2, "blanked": 0, "reasons": {"expected a number": 1, "expected an ISO 8601 date": 1}},
        "users": {"quarantined": 1, "blanked": 0, "reasons": {"duplicate user_id": 1}},
        "workflow_runs": {"quarantined": 1, "blanked": 0, "reasons": {"is before started_at": 1}},
        "onboarding": {"quarantined": 0, "blanked": 1, "reasons": {"expected an ISO 8601 timestamp": 1}},
        "usage_events": {"quarantined": 14, "blanked": 0, "reasons": {"could not be resolved": 8, "expected an ISO 8601 timestamp": 2, "not among the accepted accounts": 4}},
        "training": {"quarantined": 0, "blanked": 0, "reasons": {}},
        "touchpoints": {"quarantined": 0, "blanked": 0, "reasons": {}},
        "interviews": {"quarantined": 0, "blanked": 0, "reasons": {}},
        "interventions": {"quarantined": 0, "blanked": 0, "reasons": {}},
        "product_fixes": {"quarantined": 0, "blanked": 0, "reasons": {}},
    }


# --------------------------------------------------------------------------
# Writing


FORMATS = {"training": "xlsx", "health_scores": "parquet"}


#: Above this many accounts the sample's product events are streamed to disk
#: in chunks (:func:`generate`), so that a large company is written in bounded memory.
STREAM_ABOVE = 10_000


def write_sample(out: str | Path, accounts: int = 1500, seed: int = 7, minimal: bool = False,
                 effects: bool = True, stream_above: int = STREAM_ABOVE) -> dict:
    """Write the sample data folder and ``truth.json``; return the truth
    (``effects=False``: no effect planted, see :func:`generate`). Above
    ``stream_above`` accounts the events are written a chunk at a time, as
    ``usage_events/part-NNNN.parquet``."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    streamed = []

    def write_part(frame: pd.DataFrame) -> None:
        (out / "usage_events").mkdir(exist_ok=True)
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False),
                       out / "usage_events" / f"part-{len(streamed):04d}.parquet")
        streamed.append(len(frame))

    sink = write_part if accounts > stream_above and not minimal else None
    tables, truth = generate(accounts=accounts, seed=seed, minimal=minimal, effects=effects, events_sink=sink)
    files = {"usage_events": "usage_events/"} if streamed else {}
    for name, frame in tables.items():
        if name == "usage_events":
            folder = out / "usage_events"
            folder.mkdir(exist_ok=True)
            # One file a year; rows whose timestamp is unreadable go to a file of their own.
            year = frame["timestamp"].str[:4].where(frame["timestamp"].str[:4].str.isdigit(), "unparsed")
            for q, part in frame.groupby(year, sort=True):
                pq.write_table(pa.Table.from_pandas(part.reset_index(drop=True), preserve_index=False), folder / f"{q}.parquet")
            files[name] = "usage_events/"
        elif FORMATS.get(name) == "parquet":
            pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), out / f"{name}.parquet")
            files[name] = f"{name}.parquet"
        elif FORMATS.get(name) == "xlsx":
            frame.to_excel(out / f"{name}.xlsx", index=False)
            files[name] = f"{name}.xlsx"
        else:
            frame.to_csv(out / f"{name}.csv", index=False)
            files[name] = f"{name}.csv"
    truth["files"] = files
    truth["rows_written"] = {name: int(len(f)) for name, f in tables.items()}
    if streamed:
        truth["rows_written"]["usage_events"] = int(sum(streamed))
        truth["events_streamed_in_chunks"] = len(streamed)
    truth["config"] = {"usage": {"core_features": CORE_FEATURES, "value_events": [VALUE_EVENT]}}
    (out / "truth.json").write_text(json.dumps(truth, indent=2, default=str))
    if not minimal:
        (out / "vga.toml").write_text(
            "# Settings for the sample company; every option: docs/operations/configuration.md.\n"
            "[usage]\n"
            f"core_features = {json.dumps(CORE_FEATURES)}\n"
            f"value_events = {json.dumps([VALUE_EVENT])}\n"
            + SAMPLE_PROGRAMME
        )
    return truth
