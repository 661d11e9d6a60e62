"""Validating product events where they live: a warehouse table, by Ibis.

Events in a warehouse (``[warehouse] url`` and ``events_table``) are never
exported. The contract's rules for ``usage_events``
(:mod:`vga.load.event_rules`, the same expression that judges event files)
run in the warehouse, with the reasons of :mod:`vga.load.messages`.

Accepted events stay in the warehouse: judged once into a temporary table
of the run's session, which the analyses aggregate there. Quarantined rows are fetched (personal columns
redacted in the warehouse) into the run's quarantine. What differs from
files: a warehouse table has no record order, so quarantined rows have no
``source_row`` (the cell is empty; find them by their other columns).
"""

from __future__ import annotations

import socket
from pathlib import Path

import ibis
import pandas as pd

from ..config import redact_url, scrub, source_spec, warehouse_url
from ..credentials import is_connection_string, parse_url
from ..engine import keep, lookup_tables, open_warehouse
from ..privacy import mask_contacts
from ..contract import PERSONAL_COLUMNS, REDACTED, TABLES
from ..errors import DataError, UsageError
from .event_rules import LOOKUPS, lookups, reserved_name_message
from .event_rules import verdict as rules_verdict
from .files import missing_required_message
from .outcome import TableLoad

CONNECT_TIMEOUT_SECONDS = 10
TEMPORARY_REFUSED = ("the warehouse refused vga a temporary table, where a run keeps the judged events and sends "
                     "its accounts and users: give the role of [warehouse] url the TEMPORARY privilege on its database")


def connect(config: dict):
    """Connect to the configured warehouse, failing at once with host and
    port when it cannot be reached (never with the password: any message of
    the driver is scrubbed of every secret of the URL, in whatever form the
    URL holds it)."""
    url = warehouse_url(config)
    if is_connection_string(url):
        raise UsageError("[warehouse] url is a libpq connection string (key=value pairs), not a URL; write it as "
                         "postgresql://user@host:5432/database and give the password in an environment variable "
                         "named by [warehouse] url_env, or in PGPASSWORD")
    parts = parse_url(url)
    if parts is None:
        raise UsageError("[warehouse] url is not a URL (scheme://user@host/database); check [warehouse] url in your "
                         "vga.toml, or the variable named by url_env")
    where = f"{parts.hostname or 'localhost'}:{parts.port or ''}".rstrip(":")
    if parts.hostname and parts.scheme != "pyspark":
        try:
            socket.create_connection((parts.hostname, parts.port or 5432), timeout=CONNECT_TIMEOUT_SECONDS).close()
        except (OSError, UnicodeError) as exc:
            raise DataError(
                f"the warehouse at {where} cannot be reached ({scrub(str(getattr(exc, 'strerror', None) or exc), config)}); "
                "check [warehouse] url in vga.toml (or the variable named by url_env), the network, and that the "
                "server runs"
            ) from None
    try:
        return open_warehouse(url)
    except UsageError:
        raise
    except Exception as exc:  # the driver's own message, with every secret taken out
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(f"the warehouse at {where} refused the connection: {scrub(text, config)[:300]}") from None


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
    clash = reserved_name_message(f"warehouse table {name}", raw.columns)
    if clash:
        raise DataError(clash)
    frames = {lookup: (frame, LOOKUPS[lookup]) for lookup, frame in lookups(accounts, users).items()}
    try:
        with lookup_tables(raw, frames) as tables:  # gone once the events are judged
            verdict = _judged(raw, contract_of, tables)
    except Exception as exc:
        if "permission denied" not in str(exc).lower():
            raise
        raise DataError(TEMPORARY_REFUSED + f" ({str(exc).splitlines()[0][:200]})") from None
    ok = verdict.reason.isnull()
    # A feature name holding someone's e-mail or phone number is shown masked (vga.privacy):
    # the few such names are found among the distinct features, and replaced in the warehouse.
    names = verdict.filter(ok).select("feature").distinct().to_pandas()["feature"].dropna()
    masked = {n: mask_contacts(n) for n in names if mask_contacts(n) != n}
    accepted = verdict.filter(ok).select("timestamp", "account_id", "user_id", "session_id", "feature",
                                         "account_resolved_by")
    if masked:
        accepted = accepted.mutate(feature=accepted.feature.substitute(masked))
    counts = verdict.aggregate(
        rows_read=verdict.count(), rows_accepted=verdict.count(where=ok),
        unresolved=verdict.count(where=(~verdict.value_bad) & verdict.account_id.isnull()),
        first=verdict.timestamp.min(where=ok), last=verdict.timestamp.max(where=ok),
    ).to_pandas().iloc[0]
    routes = accepted.group_by("account_resolved_by").aggregate(n=accepted.count()).to_pandas()
    bad = verdict.filter(~ok)
    frame = bad.select(**{o: bad[f"_given_{i}"] for i, o in enumerate(raw.columns)},
                       reason=bad.reason, reason_kind=bad.reason_kind).to_pandas()
    frame.insert(0, "source_row", pd.Series([pd.NA] * len(frame), dtype="Int64"))
    load = TableLoad(
        "usage_events", f"warehouse table {name} at {redact_url(warehouse_url(config))}", [], pd.DataFrame(), frame,
        pd.DataFrame(columns=["source_row", "column", "value", "reason", "reason_kind"]), int(counts["rows_read"]),
        {"resolved_by": {str(r["account_resolved_by"]): int(r["n"]) for _, r in routes.iterrows()},
         "unresolved": int(counts["unresolved"] or 0)},
        accepted_rows=int(counts["rows_accepted"] or 0),
        first_date=None if pd.isna(counts["first"]) else pd.Timestamp(counts["first"]).normalize(),
        last_date=None if pd.isna(counts["last"]) else pd.Timestamp(counts["last"]).normalize(),
    )
    return accepted, load


def _judged(raw: ibis.Table, contract_of: dict[str, str], tables: dict[str, ibis.Table]) -> ibis.Table:
    """Every row of ``raw`` judged by the contract's rules, kept in the run's
    session (one statement, with parallel workers where the warehouse has them)."""
    judged = rules_verdict(raw, contract_of, tables, offsets_to_utc=False)
    ok = judged.reason.isnull()
    personal = {o for o, c in contract_of.items() if c in PERSONAL_COLUMNS or "email" in o.lower()}

    def text(c):
        original = next(o for o, contract in contract_of.items() if contract == c)
        return judged[original].cast("string").strip()

    def shown(o):  # personal values never leave the warehouse
        value = judged[o].cast("string")
        if o in personal:
            return ibis.cases((value.isnull() | (value.strip() == ""), ""), else_=ibis.literal(REDACTED))
        return value.fill_null("")

    # Judged once and kept in the run's session, not again by every query a
    # step sends (the rules join each event to the accounts and users): the
    # columns the steps read, trimmed, and for the few rejected rows their
    # values as given (shown in the quarantine; empty on accepted rows, so
    # the table is hardly wider than the accepted events).
    raw_as_given = {f"_given_{i}": ibis.cases((ok, ibis.null("string")), else_=shown(o))
                    for i, o in enumerate(raw.columns)}
    narrow = judged.select(
        timestamp=judged._ts, account_id=judged._account, user_id=judged._user,
        session_id=(text("session_id") if "session_id" in contract_of.values() else ibis.null("string")),
        feature=text("feature"), account_resolved_by=judged._resolved_by,
        reason=judged.reason, reason_kind=judged.reason_kind, value_bad=judged._value_bad, **raw_as_given,
    )
    kept = keep(narrow)
    if kept is narrow and any(t.get_name().startswith("vga_lookup_") for t in tables.values()):
        # The expression would outlive the lookup tables it reads.
        raise DataError(TEMPORARY_REFUSED)
    return kept
