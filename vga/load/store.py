"""The incremental store: validated product events kept between runs, so a
quarterly refresh reads only what changed.

A refresh of the next quarter should cost what the new quarter costs, not
all of history. Events are by far the largest input; the store keeps, beside
the reports (``<out>/.vga-store/``, readable by its owner only), what
earlier runs made of each events source file:

- per source file (each Parquet part of a ``usage_events/`` folder, or the
  one events file, or a mapping query): its accepted events as Parquet, its
  quarantined rows, its counts and the months it holds, and its *identity
  keys* (the given account, the user and the e-mail domain each row was
  resolved by);
- the key of an entry is the file's sha256 (recomputed only when its size
  or modification time changed), the ``[sources.usage_events]`` mapping and
  the store's format version: a changed file is validated again, a deleted
  one is simply no longer read;
- an entry is reused only while its identity keys resolve as they did: the
  keys are resolved again against this run's accounts and users (a small
  table, not the events) and compared with what the entry was written
  with; an account added or a user moved that touches the file's rows
  makes it validated again, the others stay as they are.

Monthly per-account aggregates (:mod:`vga.run.refresh`) are kept by month
beside the parts, keyed by the parts that hold that month.

User ids never reach the store in clear: accepted events carry the user id
as its salted sha256 (the salt is the store's own, ``salt``, 0600), which
keeps distinct counts exact. Quarantined rows are redacted as always.
``vga run --rebuild`` empties the store first.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from ..config import source_spec
from ..errors import DataError
from . import messages as msg
from .files import SqlSource, sha256

#: Bump when what an entry holds, or how events are validated, changes:
#: every entry written by another version is then validated again.
STORE_VERSION = 2


@dataclass
class Part:
    """One events source file as the store knows it."""

    name: str  # as shown in source_file ("" for a single events file)
    path: Path | SqlSource
    key: str  # content key: file hash, mapping, store version
    entry: Path  # the entry's folder


class EventStore:
    """The store under ``root`` (see the module docstring)."""

    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(self.root, 0o700)  # it holds salted user ids and every accepted event
        (self.root / "events").mkdir(exist_ok=True)
        salt_file = self.root / "salt"
        if not salt_file.exists():
            fd = os.open(salt_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(16))
        self.salt = salt_file.read_text().strip()
        self._hashes_file = self.root / "hashes.json"
        self._hashes = json.loads(self._hashes_file.read_text()) if self._hashes_file.exists() else {}
        self.reused: list[str] = []
        self.validated: list[str] = []

    def file_hash(self, path: Path) -> str:
        """sha256 of ``path``, recomputed only when its size or modification time changed."""
        stat = path.stat()
        known = self._hashes.get(str(path.resolve()))
        if known and known["size"] == stat.st_size and known["mtime_ns"] == stat.st_mtime_ns:
            return known["sha256"]
        digest = sha256(path)
        self._hashes[str(path.resolve())] = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": digest}
        return digest

    def save_hashes(self) -> None:
        tmp = self._hashes_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(self._hashes, indent=1, sort_keys=True))
        tmp.replace(self._hashes_file)

    def parts(self, source: Path | SqlSource, mapping: dict) -> list[Part]:
        """The source's parts with their content keys."""
        settings = json.dumps(mapping, sort_keys=True, default=str)
        if isinstance(source, SqlSource):
            named = "".join(f"{p.name}:{self.file_hash(p)};" for p in source.files)
            items = [("", source, f"sql:{source.sql}|{named}")]
        elif Path(source).is_dir():
            files = sorted(Path(source).glob("*.parquet"))
            if not files:  # as without the store (load.events): said, never an empty read
                raise DataError(msg.no_event_files(source))
            items = [(p.name, p, f"file:{p.name}:{self.file_hash(p)}") for p in files]
        else:
            items = [("", Path(source), f"file:{self.file_hash(Path(source))}")]
        out = []
        for name, path, content in items:
            key = hashlib.sha256(f"v{STORE_VERSION}|{content}|{settings}".encode()).hexdigest()[:32]
            out.append(Part(name, path, key, self.root / "events" / key))
        return out

    def identity_signature(self, keys_path: Path, accounts: pd.DataFrame, users: pd.DataFrame | None) -> str:
        # The accounts' and users' lookups are built once for a run's frames,
        # not once a part: they grow with the accounts, the parts with the events.
        held = getattr(self, "_resolution", None)
        if held is None or held[0] is not accounts or held[1] is not users:
            if held is not None:
                held[2].close()
            held = self._resolution = (accounts, users, resolution_tables(accounts, users, self.salt))
        return identity_signature(keys_path, accounts, users, self.salt, tables=held[2])

    def release(self) -> None:
        """Close the lookups :meth:`identity_signature` keeps (a run's users, hashed): done with the parts."""
        held = getattr(self, "_resolution", None)
        if held is not None:
            held[2].close()
            self._resolution = None

    def reusable(self, part: Part, accounts: pd.DataFrame, users: pd.DataFrame | None) -> dict | None:
        """The entry's facts when it can be reused as it is, else None."""
        facts_file = part.entry / "facts.json"
        if not facts_file.exists():
            return None
        facts = json.loads(facts_file.read_text())
        if facts.get("version") != STORE_VERSION or facts.get("key") != part.key:
            return None
        if self.identity_signature(part.entry / "identity.parquet", accounts, users) != facts["identity"]:
            return None
        return facts

    def write(self, part: Part, result: dict, accounts: pd.DataFrame, users: pd.DataFrame | None,
              staging: Path) -> dict:
        """Move a freshly validated part (files in ``staging``) into its entry."""
        quarantined = result["quarantined"]
        quarantined.to_parquet(staging / "quarantine.parquet", index=False)
        facts = {
            "version": STORE_VERSION, "key": part.key, "name": part.name,
            "identity": self.identity_signature(staging / "identity.parquet", accounts, users),
            "rows_read": result["rows_read"], "rows_accepted": result["rows_accepted"],
            "resolved_by": result["resolved_by"], "unresolved": result["unresolved"],
            "first_date": None if result["first_date"] is None else result["first_date"].isoformat(),
            "last_date": None if result["last_date"] is None else result["last_date"].isoformat(),
            "months": result["months"],
        }
        (staging / "facts.json").write_text(json.dumps(facts, indent=1))
        shutil.rmtree(part.entry, ignore_errors=True)
        staging.rename(part.entry)  # whole or not at all: an entry is never half written
        return facts


def resolution_tables(accounts: pd.DataFrame, users: pd.DataFrame | None, salt: str) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection holding what :func:`identity_signature` resolves
    keys against: ``k_accounts`` (account_id, domain), ``k_users`` (salted
    user key, account) and ``k_domains`` (each e-mail domain held by exactly
    one account)."""
    con = duckdb.connect()
    con.register("k_accounts_frame", accounts[["account_id"] + (["domain"] if "domain" in accounts.columns else [])])
    con.execute("CREATE TEMP TABLE k_accounts AS SELECT * FROM k_accounts_frame")
    if users is not None and len(users):
        u = users[["user_id", "account_id"]].drop_duplicates("user_id")
        con.register("k_users_raw", u)
        con.execute("CREATE TEMP TABLE k_users AS SELECT sha256(? || user_id) AS user_key, account_id "
                    "FROM k_users_raw", [salt])
    else:
        con.execute("CREATE TEMP TABLE k_users (user_key VARCHAR, account_id VARCHAR)")
    domains = ("SELECT sha256(? || lower(ltrim(domain, '@'))) AS domain, min(account_id) AS account_id "
               "FROM k_accounts WHERE domain IS NOT NULL GROUP BY 1 HAVING count(*) = 1" if "domain" in accounts.columns
               else "SELECT NULL::VARCHAR AS domain, NULL::VARCHAR AS account_id WHERE false AND ? IS NOT NULL")
    con.execute(f"CREATE TEMP TABLE k_domains AS {domains}", [salt])  # salted, as the identity files hold them
    return con


def identity_signature(keys_path: Path, accounts: pd.DataFrame, users: pd.DataFrame | None, salt: str,
                       tables: duckdb.DuckDBPyConnection | None = None) -> str:
    """How a part's rows resolve today: each identity key (given account,
    salted user, e-mail domain) with the account it resolves to by the
    contract's order (given, then ``users``, then a unique domain) and
    whether that account is accepted, as one md5 over the sorted lines.
    ``tables``: :func:`resolution_tables` of the same accounts, users and
    salt, built once for many parts (else built here)."""
    con = tables if tables is not None else resolution_tables(accounts, users, salt)
    try:
        row = con.execute("""
            WITH keys AS (SELECT * FROM read_parquet(?)),
            resolved AS (
              SELECT k.given_account, k.user_key, k.email_domain,
                     coalesce(k.given_account, u.account_id, d.account_id) AS account
              FROM keys k
              LEFT JOIN k_users u ON k.given_account IS NULL AND u.user_key = k.user_key
              LEFT JOIN k_domains d ON k.given_account IS NULL AND u.account_id IS NULL AND d.domain = k.email_domain
            )
            SELECT md5(coalesce(string_agg(line, chr(10) ORDER BY line), '')) FROM (
              SELECT concat_ws('|', coalesce(given_account, '~'), coalesce(user_key, '~'), coalesce(email_domain, '~'),
                               coalesce(account, '~'), CAST(account IN (SELECT account_id FROM k_accounts) AS VARCHAR)
                     ) AS line FROM resolved)
        """, [str(keys_path)]).fetchone()
        return row[0]
    finally:
        if tables is None:
            con.close()


def combine(parts: list[Part], facts: list[dict], folder: bool) -> dict:
    """One result for the whole source, as :func:`vga.load.events.validate_events` gives it."""
    frames = [pd.read_parquet(p.entry / "quarantine.parquet") for p in parts]
    frames = [f for f in frames if len(f)]
    if frames:
        quarantined = pd.concat(frames, ignore_index=True)
        text = [c for c in quarantined.columns if c not in ("source_row",)]
        quarantined[text] = quarantined[text].fillna("")
        order = ["source_file", "source_row"] if folder else ["source_row"]
        quarantined = quarantined.sort_values(order, kind="stable").reset_index(drop=True)
        quarantined["source_row"] = quarantined["source_row"].astype("int64")
    else:
        quarantined = pd.read_parquet(parts[0].entry / "quarantine.parquet") if parts else pd.DataFrame()
    routes: dict[str, int] = {}
    for f in facts:
        for route, n in f["resolved_by"].items():
            routes[route] = routes.get(route, 0) + n
    firsts = [pd.Timestamp(f["first_date"]) for f in facts if f["first_date"]]
    lasts = [pd.Timestamp(f["last_date"]) for f in facts if f["last_date"]]
    return {
        "rows_read": sum(f["rows_read"] for f in facts),
        "rows_accepted": sum(f["rows_accepted"] for f in facts),
        "accepted_path": [p.entry / "accepted.parquet" for p in parts],
        "quarantined": quarantined,
        "resolved_by": routes,
        "unresolved": sum(f["unresolved"] for f in facts),
        "first_date": min(firsts) if firsts else None,
        "last_date": max(lasts) if lasts else None,
        "months": sorted({m for f in facts for m in f["months"]}),
    }



def validate_with_store(store: "EventStore", source, config: dict, accounts: pd.DataFrame, users, work_dir: Path,
                        progress=None) -> dict:
    """:func:`vga.load.events.validate_events` through the store: each part
    is reused when it can be, validated (and kept) when not."""
    from .event_rules import lookups
    from .events import validate_events

    mapping = source_spec(config, "usage_events")
    parts = store.parts(source, mapping)
    folder = not isinstance(source, SqlSource) and Path(source).is_dir()
    facts = []
    frames = None  # the accounts' and users' lookups, built for the first part validated
    for part in parts:
        known = store.reusable(part, accounts, users)
        if known is not None:
            store.reused.append(part.name or str(part.path))
            facts.append(known)
            continue
        staging = store.root / "events" / f".{part.key}.{os.getpid()}.partial"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        if frames is None:
            frames = lookups(accounts, users)
        result = validate_events(part.path, config, accounts, users, work_dir, lookup_frames=frames,
                                 accepted_path=staging / "accepted.parquet",
                                 source_file=part.name if folder else None,
                                 identity=(staging / "identity.parquet", store.salt))
        facts.append(store.write(part, result, accounts, users, staging))
        store.validated.append(part.name or str(part.path))
    store.save_hashes()
    store.release()
    out = combine(parts, facts, folder)
    out["parts"] = [{"name": p.name or str(p.path), "key": p.key, "identity": f["identity"], "months": f["months"]}
                    for p, f in zip(parts, facts)]
    return out
