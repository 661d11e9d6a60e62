"""The contract's rules for ``usage_events``, written once as an Ibis expression.

The same expression judges events read from files (compiled to DuckDB SQL
and run out of core on the loader's own connection, sandboxed where a
mapping query reads the data folder: :mod:`vga.load.events`) and events
where they live (run in the warehouse: :mod:`vga.load.warehouse`), with the
reasons of :mod:`vga.load.messages`:

1. value checks: ``timestamp``, ``feature`` and ``user_id`` are required
   (null or blank text is missing); a text timestamp must have the ISO 8601
   shape and be a real time. Files are read as text and parsed by DuckDB,
   which converts an offset to UTC. In a warehouse the contract's strict
   shape and a real calendar date are checked first (a warehouse's cast
   would raise on 2026-04-31 and stop the run, and PostgreSQL's cast to
   ``timestamp`` drops a text offset rather than converting it: keep event
   times in a timestamp column there, the usual case, where offsets matter);
2. identity resolution: an event without ``account_id`` takes its account
   from ``users`` (its row for this user_id), else from the domain of
   ``user_email`` when exactly one account has that domain (any case);
3. references: an event whose account is not among the accepted accounts is
   quarantined.

:func:`verdict` returns the raw columns and, per row: ``_ts`` (the parsed
time, naive UTC), ``_given`` (the account given), ``_domain`` (the e-mail's
domain), ``_user`` (the user id as text), ``_value_bad``, ``_account`` (the
account resolved), ``_resolved_by`` (``given``, ``users`` or ``domain``),
``reason`` and ``reason_kind`` (null for an accepted event).
"""

from __future__ import annotations

import ibis
import ibis.expr.datatypes as dt
import pandas as pd

from ..contract import TABLES
from . import messages as msg

#: The lookup tables :func:`verdict` joins, by name, with their columns.
LOOKUPS = {
    "vga_event_users": {"_u_user": "string", "_u_account": "string"},
    "vga_event_domains": {"_d_domain": "string", "_d_account": "string"},
    "vga_event_accounts": {"_k_account": "string"},
}


#: Names the rules give their own columns (and, for files, the row's place):
#: an export's column of one of these names is refused, never confused with them.
RESERVED = frozenset({"_ts", "_given", "_domain", "_user", "_value_reason", "_value_kind", "_value_bad", "_account",
                      "_resolved_by", "reason", "reason_kind", *(c for cols in LOOKUPS.values() for c in cols)})
FILE_RESERVED = RESERVED | {"source_row", "source_file"}


def reserved_name_message(where, columns, reserved=RESERVED) -> str | None:
    """The message refusing an events export with a column named as one of
    the rules' own (None when there is none)."""
    clash = sorted(set(map(str, columns)) & reserved)
    if not clash:
        return None
    return (f"{where}: usage_events has a column named '{clash[0]}', a name vga gives its own columns while it "
            "checks events; rename or leave out that column (a mapping query under [sources.usage_events] sql can)")


def lookups(accounts: pd.DataFrame, users: pd.DataFrame | None) -> dict[str, pd.DataFrame]:
    """The lookup tables of :data:`LOOKUPS` from the accepted accounts and
    users: each user's account, each e-mail domain held by exactly one
    account (lower case, without a leading @), and the accounts' ids."""
    if users is not None and len(users):
        user_map = users[["user_id", "account_id"]].drop_duplicates("user_id")
    else:
        user_map = pd.DataFrame({"user_id": pd.Series(dtype=str), "account_id": pd.Series(dtype=str)})
    user_map = user_map.rename(columns={"user_id": "_u_user", "account_id": "_u_account"})
    if "domain" in accounts.columns:
        d = accounts.dropna(subset=["domain"])
        d = pd.DataFrame({"_d_domain": d["domain"].str.lstrip("@").str.lower(), "_d_account": d["account_id"]})
        # A domain held by one account only (a count, not a per-group minimum: fast on text columns).
        domains = d[~d["_d_domain"].duplicated(keep=False)].reset_index(drop=True)
    else:
        domains = pd.DataFrame({"_d_domain": pd.Series(dtype=str), "_d_account": pd.Series(dtype=str)})
    known = pd.DataFrame({"_k_account": accounts["account_id"].astype(str).unique()})
    frames = {"vga_event_users": user_map, "vga_event_domains": domains, "vga_event_accounts": known}
    return {name: frame[list(LOOKUPS[name])].astype(object) for name, frame in frames.items()}


def _text(template, *values):
    """A reason's text as an Ibis string expression (see messages.sql_text)."""
    parts = template(*[msg._SLOT] * len(values))[1].split(msg._SLOT)
    out = ibis.literal(parts[0])
    for value, part in zip(values, parts[1:]):
        out = out + value.cast("string") + ibis.literal(part)
    return out


def _kind(template, arity: int):
    return ibis.literal(template(*[""] * arity)[0])


def _joined(parts):
    """The non-empty parts joined by '; ' (empty when none)."""
    out = None
    for p in parts:
        piece = p.fill_null("")
        out = piece if out is None else ibis.cases(((out != "") & (piece != ""), out + "; " + piece), else_=out + piece)
    return out


def _parsed_time(column, text, *, offsets_to_utc: bool):
    """The event time as a naive UTC timestamp; null where the text is not
    an ISO 8601 time (see the module docstring for the two engines)."""
    if not column.type().is_string():
        return column.cast("timestamp")
    if offsets_to_utc:  # DuckDB: the contract's shape, then its own parse with the offset applied
        shaped = text.re_search("^" + msg.ISO_PATTERN + "$")
        stamp = text.try_cast(dt.Timestamp(timezone="UTC")).cast("timestamp")
        return ibis.cases((shaped, stamp), else_=ibis.null("timestamp"))
    shaped = text.re_search("^" + msg.ISO_STRICT_PATTERN + "$")
    # A real date too (no 2026-04-31): the warehouse's cast would raise on it, and stop the run.
    year, month, day = (text.substr(0, 4), text.substr(5, 2), text.substr(8, 2))
    y, m, d = (ibis.cases((shaped, v), else_=ibis.literal("1")).cast("int32") for v in (year, month, day))
    leap = (y % 4 == 0) & ((y % 100 != 0) | (y % 400 == 0))
    days = ibis.cases((m == 2, ibis.cases((leap, 29), else_=28)), (m.isin([4, 6, 9, 11]), 30), else_=31)
    return ibis.cases((shaped & (d <= days), text.try_cast("timestamp")), else_=ibis.null("timestamp"))


def verdict(raw: ibis.Table, contract_of: dict[str, str], tables: dict[str, ibis.Table], *,
            offsets_to_utc: bool) -> ibis.Table:
    """Every row of ``raw`` judged by the contract's rules (module docstring).

    ``contract_of`` maps each raw column to its contract name; ``tables``
    holds the lookup tables of :data:`LOOKUPS` (bound to the engine that
    runs the expression, or unbound to be compiled)."""
    col = {contract: raw[original] for original, contract in contract_of.items()}

    def text(c):
        return col[c].cast("string").strip()

    def blank(c):
        if not col[c].type().is_string():  # a typed column (a warehouse's timestamp) is blank only when null
            return col[c].isnull()
        return col[c].isnull() | (text(c) == "")

    parsed = _parsed_time(col["timestamp"], text("timestamp"), offsets_to_utc=offsets_to_utc)
    expected = msg.expectation(TABLES["usage_events"].column("timestamp"))
    reasons = [ibis.cases((blank("timestamp"), ibis.literal(msg.required_empty("timestamp")[1])),
                          (parsed.isnull(), _text(lambda v: msg.invalid("timestamp", expected, v), text("timestamp"))))]
    kinds = [ibis.cases((blank("timestamp"), ibis.literal(msg.required_empty("timestamp")[0])),
                        (parsed.isnull(), _kind(lambda v: msg.invalid("timestamp", expected, v), 1)))]
    for c in ("feature", "user_id"):
        reasons.append(ibis.cases((blank(c), ibis.literal(msg.required_empty(c)[1]))))
        kinds.append(ibis.cases((blank(c), ibis.literal(msg.required_empty(c)[0]))))
    value_bad = blank("timestamp") | parsed.isnull() | blank("feature") | blank("user_id")
    given = (ibis.cases((blank("account_id"), ibis.null("string")), else_=text("account_id"))
             if "account_id" in col else ibis.null("string"))
    if "user_email" in col:
        email_domain = text("user_email").lower().re_extract(r"@([^@]+)$", 1)
        email_domain = ibis.cases((email_domain == "", ibis.null("string")), else_=email_domain)
    else:
        email_domain = ibis.null("string")
    staged = raw.mutate(_ts=parsed, _given=given, _domain=email_domain, _user=text("user_id"),
                        _value_reason=_joined(reasons), _value_kind=_joined(kinds), _value_bad=value_bad)
    users, domains, known = (tables[name] for name in LOOKUPS)
    # Looked up only where the account is not given: the key is null elsewhere, so the
    # events that carry their account (most, usually) match nothing and cost no probe.
    s = staged.left_join(users, ibis.cases((staged._given.isnull(), staged._user), else_=ibis.null("string"))
                         == users._u_user)
    s = s.left_join(domains, ibis.cases((s._given.isnull() & s._u_account.isnull(), s._domain),
                                        else_=ibis.null("string")) == domains._d_domain)
    s = s.mutate(_account=ibis.coalesce(s._given, s._u_account, s._d_account), _resolved_by=ibis.cases(
        (s._given.notnull(), "given"), (s._u_account.notnull(), "users"), (s._d_account.notnull(), "domain")))
    s = s.left_join(known, s._account == known._k_account)
    judged = s.mutate(
        reason=ibis.cases((s._value_bad, s._value_reason), (s._account.isnull(), ibis.literal(msg.UNRESOLVED)),
                          (s._k_account.isnull(), _text(msg.unknown_account, s._account))),
        reason_kind=ibis.cases((s._value_bad, s._value_kind), (s._account.isnull(), ibis.literal(msg.UNRESOLVED_KIND)),
                               (s._k_account.isnull(), _kind(msg.unknown_account, 1))),
    )
    return judged.drop("_u_user", "_u_account", "_d_domain", "_d_account", "_k_account", "_value_reason", "_value_kind")
