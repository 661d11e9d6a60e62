"""Stable pseudonyms for wide sharing (``vga run --redact``).

Every name of a person or a company in the data and the configuration is
replaced by a pseudonym such as ``Account 3f9a2c1d`` or ``CSM b71e04aa``:
account names and e-mail domains, the account team (CSM, sales rep), the
channel partner, intervention owners, and the programme's sponsor, task
force and workstream owners. In the quarantine files, which keep rejected
rows as the export had them, those columns are found under the export's
own header (a mapped ``Customer Name`` is ``account_name``) and renamed to
the contract's name, and any column the contract does not know has its
header and values pseudonymised too. Account ids are kept (they are the
key back to the data owner's systems).

A pseudonym is keyed: the first 8 hex digits of an HMAC-SHA256 of the name
under a secret key, so nobody can recover a name by hashing a list of
candidates. The key is ``VGA_REDACT_KEY`` when set (teams that must line
up their reports share it), else a key made on first use and kept in the
user's configuration folder (``$XDG_CONFIG_HOME/vga/redact-key``, by
default ``~/.config/vga/redact-key``), readable by its owner only: never
beside the reports that are handed on, where with a list of candidate
names it would reverse every pseudonym. The same name gets the same
pseudonym in every run with that key, so two quarters' reports line up.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import replace
from pathlib import Path

import pandas as pd

from ..spreadsheet import safe_frame

#: column -> pseudonym prefix, in every table that has the column
PSEUDONYMS = {"account_name": "Account", "domain": "Domain", "csm": "CSM", "sales_rep": "Sales rep",
              "owner": "Owner", "channel_partner": "Partner"}
#: Where earlier releases kept the key: inside the reports folder (moved out on first use).
OLD_KEY_FILE = ".vga-redact-key"
KEY_VARIABLE = "VGA_REDACT_KEY"
#: Columns vga itself writes into the quarantine files.
OWN_COLUMNS = {"source_row", "source_file", "reason", "reason_kind", "column", "value"}


def key_path() -> Path:
    """Where the redaction key is kept: the user's configuration folder."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "vga" / "redact-key"


def redaction_key(reports_dir: str | Path) -> tuple[bytes, str]:
    """The key pseudonyms are made with, and one line saying where it is
    (for the console, once a run): ``VGA_REDACT_KEY``, else the user's own
    key (:func:`key_path`), made on first use (mode 0600), or moved there
    from ``<reports>/.vga-redact-key`` where an earlier release kept it."""
    from ..errors import UsageError

    given = os.environ.get(KEY_VARIABLE, "").strip()
    if given:
        return given.encode("utf-8"), f"--redact: pseudonyms keyed by ${KEY_VARIABLE}"
    path = key_path()
    old = Path(reports_dir) / OLD_KEY_FILE
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        said = f"--redact: pseudonyms keyed by {path} (keep it private: with it, a list of names undoes them)"
        if not path.exists() and old.is_file():
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(old.read_text().strip())
            said = f"--redact: the key moved from {old}, beside the reports, to {path}"
        elif not path.exists():
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(32))
            said = f"--redact: a new key made in {path} (keep it private: with it, a list of names undoes them)"
    except FileExistsError:
        pass  # another run made it first
    except (OSError, RuntimeError) as exc:  # RuntimeError: no home folder
        raise UsageError(f"--redact needs a key and cannot keep one in {path} ({getattr(exc, 'strerror', None) or exc}); "
                         f"set {KEY_VARIABLE} to a long random text of your own") from None
    if old.is_file():
        old.unlink()  # never beside the reports that are handed on
    return path.read_text().strip().encode("utf-8"), said


def pseudonym(value, prefix: str, key: bytes):
    """``prefix`` and 8 hex digits of the value's HMAC under ``key``; empty stays empty."""
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA or str(value) == "":
        return value
    digest = hmac.new(key, str(value).strip().encode("utf-8"), hashlib.sha256).hexdigest()
    return f"{prefix} {digest[:8]}"


def redact_frame(frame: pd.DataFrame, key: bytes) -> pd.DataFrame:
    """``frame`` with every name column of :data:`PSEUDONYMS` pseudonymised."""
    out = frame.copy()
    for column, prefix in PSEUDONYMS.items():
        if column in out.columns:
            out[column] = out[column].map(lambda v, p=prefix: pseudonym(v, p, key))
    return out


def redact_inputs(inputs, key: bytes):
    """The run's inputs with names pseudonymised in every table."""
    tables = {name: (redact_frame(frame, key) if any(c in frame.columns for c in PSEUDONYMS) else frame)
              for name, frame in inputs.tables.items()}
    return replace(inputs, tables=tables)


def redact_config(config: dict, key: bytes) -> dict:
    """The configuration with the programme's people pseudonymised: the
    sponsor, the task force and each workstream's owner."""
    programme = dict(config.get("programme") or {})
    if programme.get("sponsor"):
        programme["sponsor"] = pseudonym(programme["sponsor"], "Person", key)
    programme["task_force"] = [pseudonym(p, "Person", key) for p in programme.get("task_force") or []]
    programme["workstreams"] = [dict(w, owner=pseudonym(w.get("owner", ""), "Owner", key))
                                for w in programme.get("workstreams") or []]
    return {**config, "programme": programme}


def redact_folder(folder, key: bytes, config: dict | None = None) -> None:
    """Pseudonymise every name in the quarantine files of ``folder``: the
    name columns, under the contract's name or the export's own header
    (``config``'s ``[sources.<table>.columns]``), the blanked values of
    name columns (``<table>_cells.csv``), and every column the contract
    does not know, header and values."""
    from ..config import source_spec
    from ..contract import TABLES

    for path in sorted(Path(folder).glob("*.csv")):
        table = path.stem.removesuffix("_cells")
        known = {c.name for c in TABLES[table].columns} if table in TABLES else set()
        header_of = {v: k for k, v in (source_spec(config or {}, table).get("columns") or {}).items()}
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        renamed = {}
        for column in frame.columns:
            contract = header_of.get(column.removesuffix(" (unmapped)"), column)
            if contract in OWN_COLUMNS or contract in known:
                renamed[column] = contract
            else:  # a column the contract does not know: its header and values may name anyone
                renamed[column] = pseudonym(column, "Column", key)
                frame[column] = frame[column].map(lambda v: pseudonym(v, "Value", key))
        frame = frame.rename(columns=renamed)
        if {"column", "value"} <= set(frame.columns):  # a blanked cell of a name column holds a name
            names = frame["column"].map(lambda c: header_of.get(c, c)).isin(list(PSEUDONYMS))
            frame.loc[names, "value"] = [pseudonym(v, PSEUDONYMS[header_of.get(c, c)], key)
                                         for c, v in zip(frame.loc[names, "column"], frame.loc[names, "value"])]
        safe_frame(redact_frame(frame, key)).to_csv(path, index=False, encoding="utf-8")
