"""Monthly per-account usage, kept by month in the incremental store, so a
quarterly refresh aggregates only the months it has not seen or whose
events changed.

The months of ``usage_events`` are aggregated with
:func:`vga.analysis.usage.monthly_usage` (every measure per account and calendar
month). Each month's rows are kept in ``<store>/monthly/<settings>/`` with
what they were built from:

- events from the data folder: the store's parts that hold that month
  (:mod:`vga.load.store`: each part's content key and identity
  signature). A month is aggregated again when a part holding it is new,
  changed, re-validated or deleted; the others are read back;
- events in a warehouse table: the month's fingerprint, computed there in
  one grouped query (events, first and last timestamp, the sum of the
  timestamps in seconds and of the accounts' and users' name lengths).
  A month whose fingerprint is unchanged is read back. (A warehouse
  change that keeps all of these would go unseen: ``--rebuild``.)

``<settings>`` hashes the core features, so other settings never mix.
Either way the figures are those of a full aggregation, exactly (tested
against ``--rebuild``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from pathlib import Path

import ibis
import pandas as pd

from ..analysis.usage import MEASURES, monthly_usage_frame
from .progress import say

COLUMNS = ["account_id", "month", *MEASURES]


def _month_file(folder: Path, month: str) -> Path:
    return folder / f"{month}.parquet"


def warehouse_fingerprints(events: ibis.Table) -> dict[str, str]:
    """month (ISO first day) -> a fingerprint of its events, computed where they live."""
    t = events.mutate(month=events.timestamp.truncate("M").cast("date"))
    f = t.group_by("month").aggregate(
        n=t.count(), first=t.timestamp.min(), last=t.timestamp.max(),
        seconds=t.timestamp.epoch_seconds().sum(),
        accounts=t.account_id.length().sum(), users=t.user_id.length().sum(),
    ).to_pandas()
    return {pd.Timestamp(r["month"]).date().isoformat(): "|".join(str(r[k]) for k in
                                                                  ("n", "first", "last", "seconds", "accounts", "users"))
            for _, r in f.iterrows()}


def monthly_from_store(store_root: str | Path, events: ibis.Table, contributors: dict[str, str],
                       core_features, progress=None) -> tuple[pd.DataFrame, dict]:
    """All months' per-account usage, months unchanged since the store's
    last run read back and the others aggregated from ``events``.

    ``contributors``: month (ISO first day) -> what the month was built from
    (part keys, or a warehouse fingerprint). Returns the rows
    (:data:`COLUMNS`, months in order) and ``{"reused": [...],
    "aggregated": [...]}``."""
    core = sorted(core_features)
    settings = hashlib.sha256(json.dumps({"core": core, "columns": COLUMNS}).encode()).hexdigest()[:16]
    folder = Path(store_root) / "monthly" / settings
    folder.mkdir(parents=True, exist_ok=True)
    index_file = folder / "index.json"
    index = json.loads(index_file.read_text()) if index_file.exists() else {}
    fresh = [m for m, c in sorted(contributors.items())
             if index.get(m) != c or not _month_file(folder, m).exists()]
    if fresh:
        rows = monthly_usage_frame(events, core_features, months=[pd.Timestamp(m) for m in fresh])
        rows["month"] = pd.to_datetime(rows["month"])
        for month in fresh:
            part = rows[rows["month"] == pd.Timestamp(month)][COLUMNS].sort_values("account_id")
            tmp = folder / f".{month}.{os.getpid()}.parquet"
            part.to_parquet(tmp, index=False)
            tmp.replace(_month_file(folder, month))
            index[month] = contributors[month]
    for month in [m for m in index if m not in contributors]:  # its events are gone
        _month_file(folder, month).unlink(missing_ok=True)
        index.pop(month)
    tmp = index_file.with_suffix(".tmp")
    tmp.write_text(json.dumps(index, indent=1, sort_keys=True))
    tmp.replace(index_file)
    frames = [pd.read_parquet(_month_file(folder, m)) for m in sorted(contributors)]
    frames = [f for f in frames if len(f)]
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=COLUMNS)
    out["month"] = pd.to_datetime(out["month"])
    return out[COLUMNS].reset_index(drop=True), {"reused": [m for m in sorted(contributors) if m not in fresh],
                                                 "aggregated": fresh}


def contributors_from_parts(parts: list[dict]) -> dict[str, str]:
    """month -> the sorted content keys and identity signatures of the parts holding it."""
    months: dict[str, list[str]] = {}
    for p in parts:
        for m in p["months"]:
            months.setdefault(m, []).append(f"{p['key']}:{p['identity']}")
    return {m: ";".join(sorted(keys)) for m, keys in months.items()}


def refresh_monthly(store, loaded, inputs, core_features: list[str], quiet: bool) -> tuple:
    """Monthly usage through the store: months whose events are unchanged
    are read back, the others aggregated. Returns ``(inputs, facts)``: the inputs with their monthly usage (a new
    :class:`~vga.inputs.Inputs`), and what the manifest records: parts and
    months reused or redone."""
    if store is None:
        return inputs, {}
    facts: dict = {"root": str(store.root)}
    events = loaded.tables.get("usage_events")
    if events is None or inputs.events is None:
        return inputs, facts
    parts = (events.notes.get("store") or {}).get("parts")
    if parts is not None:
        contributors = contributors_from_parts(parts)
        facts["event_files"] = {"reused": store.reused, "validated": store.validated}
    else:  # a warehouse table: months by their fingerprint, computed there
        contributors = warehouse_fingerprints(inputs.events.table())
    monthly, months = monthly_from_store(store.root, inputs.events.table(), contributors, core_features)
    facts["months"] = months
    if parts is not None:
        say(f"[vga] incremental store: {len(store.reused)} of {len(parts)} event file(s) reused, "
            f"{len(store.validated)} validated; {len(months['reused'])} of {len(contributors)} month(s) reused, "
            f"{len(months['aggregated'])} aggregated", quiet)
    else:
        say(f"[vga] incremental store: {len(months['reused'])} of {len(contributors)} month(s) of warehouse events "
            f"reused, {len(months['aggregated'])} aggregated", quiet)
    return dataclasses.replace(inputs, monthly_usage=monthly), facts
