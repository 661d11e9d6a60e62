"""Validating product events where they live: a warehouse table, by Ibis.

Events in a warehouse (``[warehouse] url`` and ``events_table``) are never
exported. The contract's rules for ``usage_events`` are applied in the
warehouse as one Ibis expression, with the reasons of
:mod:`vga.load.messages`:

1. value checks: ``timestamp``, ``feature`` and ``user_id`` are required
   (null or blank text is missing); a text timestamp must have the ISO 8601
   shape and cast to a timestamp. The warehouse does the cast: PostgreSQL's
   cast to ``timestamp`` drops a text offset rather than converting to UTC,
   so keep event times in a timestamp column (the usual case) where offsets
   matter;
2. identity resolution: an event without ``account_id`` takes its account
   from ``users`` (its row for this user_id), else from the domain of
   ``user_email`` when exactly one account has that domain (any case);
3. references: an event whose account is not among the accepted accounts is
   quarantined.

Accepted events stay an Ibis expression over the warehouse table; the
analyses aggregate it there. Quarantined rows are fetched (personal columns
redacted in the warehouse) into the run's quarantine. What differs from
files: a warehouse table has no record order, so quarantined rows have no
``source_row`` (the cell is empty; find them by their other columns).
"""

from __future__ import annotations

import socket
from pathlib import Path
from urllib.parse import urlsplit

import ibis
import pandas as pd

from ..config import redact_url, source_spec, warehouse_url
from ..engine import open_warehouse
from ..privacy import mask_contacts
from ..contract import PERSONAL_COLUMNS, REDACTED, TABLES
from ..errors import DataError, UsageError
from . import messages as msg
from .files import missing_required_message
from .outcome import TableLoad

CONNECT_TIMEOUT_SECONDS = 10


def _text(template, *values):
    """A reason's text as an Ibis string expression (see messages.sql_text)."""
    parts = template(*[msg._SLOT] * len(values))[1].split(msg._SLOT)
    out = ibis.literal(parts[0])
    for value, part in zip(values, parts[1:]):
        out = out + value.cast("string") + ibis.literal(part)
    return out


def _kind(template, arity: int):
    return ibis.literal(template(*[""] * arity)[0])


def connect(config: dict):
    """Connect to the configured warehouse, failing at once with host and
    port when it cannot be reached (never with the password)."""
    url = warehouse_url(config)
    parts = urlsplit(url)
    where = f"{parts.hostname or 'localhost'}:{parts.port or ''}".rstrip(":")
    if parts.hostname:
        try:
            socket.create_connection((parts.hostname, parts.port or 5432), timeout=CONNECT_TIMEOUT_SECONDS).close()
        except OSError as exc:
            raise DataError(
                f"the warehouse at {where} cannot be reached ({exc.strerror or exc}); check [warehouse] url "
                "in vga.toml (or the variable named by url_env), the network, and that the server runs"
            ) from None
    try:
        return open_warehouse(url)
    except UsageError:
        raise
    except Exception as exc:  # the driver's own message, with any password taken out
        text = str(exc).replace(url, redact_url(url)).splitlines()[0] if str(exc) else type(exc).__name__
        password = parts.password
        if password:
            text = text.replace(password, "***")
        raise DataError(f"the warehouse at {where} refused the connection: {text}") from None


def validate_warehouse_events(config: dict, accounts: pd.DataFrame, users: pd.DataFrame | None, con=None):
    """The accepted events (an Ibis expression) and their :class:`TableLoad`."""
    con = con if con is not None else connect(config)
    section = config.get("warehouse") or {}
    path = (section.get("events_path") or "").strip()
    name = section.get("events_table") or "usage_events"
    try:
        # Parquet files where the engine reads them (a lake folder, object storage), or a table
        raw = con.read_parquet(path) if path else con.table(name)
    except Exception as exc:
        if path:
            raise DataError(f"the warehouse at {redact_url(warehouse_url(config))} cannot read the Parquet files at "
                            f"{path} ([warehouse] events_path in vga.toml): {str(exc).splitlines()[0][:200]}") from None
        raise DataError(f"the warehouse at {redact_url(warehouse_url(config))} has no table '{name}' "
                        "([warehouse] events_table in vga.toml)") from None
    if path:
        name = path
    mapping = source_spec(config, "usage_events").get("columns", {})
    reverse = {v: k for k, v in mapping.items()}
    contract_of = {c: reverse.get(c, c) for c in raw.columns}
    table = TABLES["usage_events"]
    missing = [c for c in table.required if c not in contract_of.values()]
    if missing:
        raise DataError(missing_required_message("usage_events", Path(f"warehouse table {name}"), list(raw.columns), missing))
    col = {contract: raw[original] for original, contract in contract_of.items()}

    def text(c):
        return col[c].cast("string").strip()

    def blank(c):
        return col[c].isnull() | (text(c) == "")

    ts = col["timestamp"]
    if ts.type().is_string():  # the contract's ISO 8601 shape first: warehouses parse words like 'yesterday'
        raw_text = text("timestamp")
        shaped = raw_text.re_search("^" + msg.ISO_STRICT_PATTERN + "$")
        # A real date too (no 2026-04-31): the warehouse's cast would raise on it, and stop the run.
        year, month, day = (raw_text.substr(0, 4), raw_text.substr(5, 2), raw_text.substr(8, 2))
        y, m, d = (ibis.cases((shaped, v), else_=ibis.literal("1")).cast("int32") for v in (year, month, day))
        leap = (y % 4 == 0) & ((y % 100 != 0) | (y % 400 == 0))
        days = ibis.cases((m == 2, ibis.cases((leap, 29), else_=28)), (m.isin([4, 6, 9, 11]), 30), else_=31)
        real = shaped & (d <= days)
        parsed = ibis.cases((real, raw_text.try_cast("timestamp")), else_=ibis.null("timestamp"))
    else:
        parsed = ts.cast("timestamp")
    expected = msg.expectation(table.column("timestamp"))
    reasons, kinds = [], []
    ts_bad = blank("timestamp") | parsed.isnull()
    reasons.append(ibis.cases((blank("timestamp"), ibis.literal(msg.required_empty("timestamp")[1])),
                              (parsed.isnull(), _text(lambda v: msg.invalid("timestamp", expected, v), text("timestamp")))))
    kinds.append(ibis.cases((blank("timestamp"), ibis.literal(msg.required_empty("timestamp")[0])),
                            (parsed.isnull(), _kind(lambda v: msg.invalid("timestamp", expected, v), 1))))
    for c in ("feature", "user_id"):
        reasons.append(ibis.cases((blank(c), ibis.literal(msg.required_empty(c)[1]))))
        kinds.append(ibis.cases((blank(c), ibis.literal(msg.required_empty(c)[0]))))
    value_bad = ts_bad | blank("feature") | blank("user_id")

    def joined(parts):
        out = None
        for p in parts:
            piece = p.fill_null("")
            out = piece if out is None else ibis.cases(
                ((out != "") & (piece != ""), out + "; " + piece), else_=out + piece)
        return out

    given = (ibis.cases((blank("account_id"), ibis.null("string")), else_=text("account_id"))
             if "account_id" in col else ibis.null("string"))
    if "user_email" in col:
        email_domain = text("user_email").lower().re_extract(r"@([^@]+)$", 1)
        email_domain = ibis.cases((email_domain == "", ibis.null("string")), else_=email_domain)
    else:
        email_domain = ibis.null("string")
    staged = raw.mutate(
        _ts=parsed, _given=given, _domain=email_domain,
        _user=text("user_id"), _value_reason=joined(reasons), _value_kind=joined(kinds), _value_bad=value_bad,
    )
    user_map = ibis.memtable(
        (users[["user_id", "account_id"]].drop_duplicates("user_id") if users is not None and len(users)
         else pd.DataFrame({"user_id": pd.Series(dtype=str), "account_id": pd.Series(dtype=str)}))
        .rename(columns={"user_id": "_u_user", "account_id": "_u_account"}).astype(object),
        schema={"_u_user": "string", "_u_account": "string"})
    if "domain" in accounts.columns:
        d = accounts.dropna(subset=["domain"]).assign(_d_domain=lambda f: f["domain"].str.lstrip("@").str.lower())
        d = d.groupby("_d_domain")["account_id"].agg(["min", "size"])
        domains = d[d["size"] == 1]["min"].rename("_d_account").reset_index()
    else:
        domains = pd.DataFrame({"_d_domain": pd.Series(dtype=str), "_d_account": pd.Series(dtype=str)})
    known = ibis.memtable(pd.DataFrame({"_k_account": accounts["account_id"].astype(str).unique()}).astype(object),
                          schema={"_k_account": "string"})
    s = staged.left_join(user_map, staged._given.isnull() & (staged._user == user_map._u_user))
    dm = ibis.memtable(domains.astype(object), schema={"_d_domain": "string", "_d_account": "string"})
    s = s.left_join(dm, s._given.isnull() & s._u_account.isnull() & (s._domain == dm._d_domain))
    resolved = ibis.coalesce(s._given, s._u_account, s._d_account)
    s = s.mutate(_account=resolved, _resolved_by=ibis.cases(
        (s._given.notnull(), "given"), (s._u_account.notnull(), "users"), (s._d_account.notnull(), "domain")))
    s = s.left_join(known, s._account == known._k_account)
    verdict = s.mutate(
        reason=ibis.cases((s._value_bad, s._value_reason), (s._account.isnull(), ibis.literal(msg.UNRESOLVED)),
                          (s._k_account.isnull(), _text(msg.unknown_account, s._account))),
        reason_kind=ibis.cases((s._value_bad, s._value_kind), (s._account.isnull(), ibis.literal(msg.UNRESOLVED_KIND)),
                               (s._k_account.isnull(), _kind(msg.unknown_account, 1))),
    )
    ok = verdict.reason.isnull()
    # A feature name holding someone's e-mail or phone number is shown masked (vga.privacy):
    # the few such names are found among the distinct features, and replaced in the warehouse.
    names = verdict.filter(ok).select(f=text("feature")).distinct().to_pandas()["f"].dropna()
    masked = {n: mask_contacts(n) for n in names if mask_contacts(n) != n}
    feature = text("feature").substitute(masked) if masked else text("feature")
    accepted = verdict.filter(ok).select(
        timestamp=verdict._ts, account_id=verdict._account, user_id=verdict._user,
        session_id=(text("session_id") if "session_id" in col else ibis.null("string")),
        feature=feature, account_resolved_by=verdict._resolved_by,
    )
    counts = verdict.aggregate(
        rows_read=verdict.count(), rows_accepted=verdict.count(where=ok),
        unresolved=verdict.count(where=(~verdict._value_bad) & verdict._account.isnull()),
        first=verdict._ts.min(where=ok), last=verdict._ts.max(where=ok),
    ).to_pandas().iloc[0]
    kept = verdict.filter(ok)
    routes = kept.group_by("_resolved_by").aggregate(n=kept.count()).to_pandas()
    personal = {o for o, c in contract_of.items() if c in PERSONAL_COLUMNS or "email" in o.lower()}
    bad = verdict.filter(~ok)

    def shown(o):  # personal values never leave the warehouse
        value = bad[o].cast("string")
        if o in personal:
            return ibis.cases((value.isnull() | (value.strip() == ""), ""), else_=ibis.literal(REDACTED))
        return value.fill_null("")

    frame = bad.select(**{o: shown(o) for o in raw.columns}, reason=bad.reason, reason_kind=bad.reason_kind).to_pandas()
    frame.insert(0, "source_row", pd.Series([pd.NA] * len(frame), dtype="Int64"))
    load = TableLoad(
        "usage_events", f"warehouse table {name} at {redact_url(warehouse_url(config))}", [], pd.DataFrame(), frame,
        pd.DataFrame(columns=["source_row", "column", "value", "reason", "reason_kind"]), int(counts["rows_read"]),
        {"resolved_by": {str(r["_resolved_by"]): int(r["n"]) for _, r in routes.iterrows()},
         "unresolved": int(counts["unresolved"] or 0)},
        accepted_rows=int(counts["rows_accepted"] or 0),
        first_date=None if pd.isna(counts["first"]) else pd.Timestamp(counts["first"]).normalize(),
        last_date=None if pd.isna(counts["last"]) else pd.Timestamp(counts["last"]).normalize(),
    )
    return accepted, load
