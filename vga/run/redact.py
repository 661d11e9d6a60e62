"""Stable pseudonyms for wide sharing (``vga run --redact``).

Every name of a person or a company in the data and the configuration is
replaced by a pseudonym such as ``Account 3f9a2c1d`` or ``CSM b71e04aa``:
account names and e-mail domains, the account team (CSM, sales rep),
intervention owners, and the programme's sponsor, task force and
workstream owners. Account ids are kept (they are the key back to the data
owner's systems).

A pseudonym is keyed: the first 8 hex digits of an HMAC-SHA256 of the name
under a secret key, so nobody can recover a name by hashing a list of
candidates. The key is ``VGA_REDACT_KEY`` when set (teams that must line
up their reports share it), else a key made once per reports folder and
kept in ``<reports>/.vga-redact-key``, readable by its owner only: the same
name gets the same pseudonym in every run into that folder, so two
quarters' reports still line up.
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
              "owner": "Owner"}
KEY_FILE = ".vga-redact-key"
KEY_VARIABLE = "VGA_REDACT_KEY"


def redaction_key(reports_dir: str | Path) -> bytes:
    """The key pseudonyms are made with: ``VGA_REDACT_KEY``, else the
    reports folder's own key, made on first use (mode 0600)."""
    given = os.environ.get(KEY_VARIABLE, "").strip()
    if given:
        return given.encode("utf-8")
    path = Path(reports_dir) / KEY_FILE
    if not path.exists():
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(32))
        except FileExistsError:
            pass  # another run made it first
    return path.read_text().strip().encode("utf-8")


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


def redact_folder(folder, key: bytes) -> None:
    """Pseudonymise the name columns of every CSV in ``folder`` (the quarantine)."""
    for path in Path(folder).glob("*.csv"):
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        if any(c in frame.columns for c in PSEUDONYMS):
            safe_frame(redact_frame(frame, key)).to_csv(path, index=False, encoding="utf-8")
