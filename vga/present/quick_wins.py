"""Step 8 · Quick wins."""

from __future__ import annotations

from . import View
from ..outputs import QUADRANTS_CSV, QUICK_WINS_CSV, QUICK_WINS_JSON
from . import Chapter
from .blocks import not_shown, count, finding, kpis, money, note, stack, table

CHAPTER = Chapter(number=8, title="Quick wins", notebook="08_quick_wins", node="quick_wins", place=7,
                  shows=(QUADRANTS_CSV,))

NAMES = {"arr_at_stake": "ARR of the accounts exposed", "account_id": "account", "account_name": "name",
         "money_at_risk": "money at risk now", "do_first": "do first", "due_date": "due", "owner_basis": "why this owner",
         "accounts": "accounts"}


def _names(view: View, ids):
    """Account names where the data has them, else the id."""
    quadrants = view.get(QUADRANTS_CSV)
    names = quadrants.set_index("account_id")["account_name"] if quadrants is not None and "account_name" in quadrants else {}
    return ids.map(lambda a: (names.get(a) if hasattr(names, "get") else None) or a)


def _reason(view: View):
    facts = view[QUICK_WINS_JSON]
    if facts.get("reason"):
        return note(f"No quick wins: {facts['reason']}.", "skip")
    return None


def headline(view: View):
    if _reason(view):
        return _reason(view)
    wins = view[QUICK_WINS_CSV]
    systemic, accounts = wins[wins["kind"] == "systemic"], wins[wins["kind"] == "account"]
    cards = kpis([
        ("systemic wins", count(len(systemic)), f"fixes for many accounts at once, ARR exposed up to {money(systemic['arr_at_stake'].max() if len(systemic) else 0)}"),
        ("account wins", count(len(accounts)), f"named accounts with a gap and an owner, ARR {money(accounts['arr_at_stake'].sum())}"),
        ("owners", count(accounts["owner"].nunique()), "each gets an action list (results/csm_actions.xlsx)"),
    ])
    first = wins[wins["do_first"]]
    top = first.iloc[0] if len(first) else None
    sentence = finding(f"First: {top['gap']} ({money(top['money_at_risk'])} of ARR at risk now; owner {top['owner']}, "
                       f"due {str(top['due_date'])[:10]}). {top['action']}.") if top is not None else finding(
        "No tested gap is large enough to act on first: the list below is worth a look, not proof.")
    return stack(cards, sentence)


def systemic(view: View):
    if _reason(view):
        return not_shown()
    rows = view[QUICK_WINS_CSV]
    rows = rows[rows["kind"] == "systemic"]
    if rows.empty:
        return note("No systemic gap: no flagged slice, milestone, abandoned workflow step or ticket category.")
    columns = ["rank", "gap", "action", "owner", "owner_basis", "due_date", "accounts", "do_first", "money_at_risk",
               "arr_at_stake", "evidence"]
    shown = table(rows[[c for c in columns if c in rows.columns]],
                  {"arr_at_stake": money, "money_at_risk": money, "accounts": count, "due_date": lambda d: str(d)[:10]},
                  names=NAMES)
    first = rows[rows["do_first"]]
    if first.empty:
        return shown
    return stack(shown, note(f"The accounts each of the {count(len(first))} Do first actions covers, with their CSM, "
                             "ARR and next renewal, are in results/do_first_accounts.csv and on the first sheet of "
                             "results/csm_actions.xlsx."))


def accounts(view: View):
    if _reason(view):
        return not_shown()
    rows = view[QUICK_WINS_CSV]
    rows = rows[rows["kind"] == "account"]
    if rows.empty:
        return note("No account shows a gap.")
    rows = rows.assign(account_name=_names(view, rows["account_id"]))
    return table(rows[["rank", "account_name", "gap", "owner", "money_at_risk", "arr_at_stake", "evidence"]],
                 {"arr_at_stake": money, "money_at_risk": money}, names={**NAMES, "account_name": "account"},
                 max_rows=25)


def owners(view: View):
    """How the account wins split across owners."""
    if _reason(view):
        return not_shown()
    facts = view[QUICK_WINS_JSON]
    rows = view[QUICK_WINS_CSV]
    rows = rows[rows["kind"] == "account"]
    if rows.empty:
        return not_shown("no account-level quick win")
    by = rows.groupby("owner").agg(accounts=("account_id", "size"), arr_at_stake=("arr_at_stake", "sum")).reset_index()
    by = by.sort_values("arr_at_stake", ascending=False)
    parts = [table(by, {"arr_at_stake": money, "accounts": count}, names=NAMES)]
    if not facts.get("has_csm"):
        parts.insert(0, note("accounts has no csm column: account wins have no owner. Add the CSM to accounts.", "warn"))
    return stack(*parts)


def findings(view: View):
    if _reason(view):
        return _reason(view)
    wins = view[QUICK_WINS_CSV]
    lines = []
    systemic = wins[wins["kind"] == "systemic"]
    for _, w in systemic[systemic["do_first"]].head(3).iterrows():
        lines.append(f"{w['gap'][0].upper() + w['gap'][1:]}: {money(w['money_at_risk'])} of ARR at risk now "
                     f"({money(w['arr_at_stake'])} held by the accounts exposed); owner {w['owner']}, due "
                     f"{str(w['due_date'])[:10]} ({w['due_basis']}).")
    counts = systemic[~systemic["tested"]]
    if len(counts):
        lines.append(f"Worth a look, not tested: {'; '.join(counts['gap'])}.")
    accounts = wins[wins["kind"] == "account"].sort_values("arr_at_stake", ascending=False)
    if len(accounts):
        top = accounts.iloc[0]
        lines.append(f"{count(len(accounts))} named accounts hold {money(accounts['arr_at_stake'].sum())} of ARR with a "
                     f"gap; the largest is {_names(view, accounts['account_id']).iloc[0]} ({money(top['arr_at_stake'])}, "
                     f"{top['gap']}, owner {top['owner']}).")
    if not lines:
        lines.append("No quick win: no scored account is a Frustrated Power User or at Churn Risk, and no slice, "
                     "onboarding milestone, workflow step or ticket category was flagged.")
    return stack(*[finding(line) for line in lines])
