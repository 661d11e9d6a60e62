"""What loading produced: per table, the accepted rows, the quarantined rows
and blanked cells with their reasons, and the facts a run reports about its
inputs (sources, reasons, identity resolution, coverage, file hashes)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..contract import TABLES
from ..spreadsheet import safe_frame
from .files import sha256

INTERNAL = ["reason_kind"]  # kept in memory to group reasons, never written


@dataclass
class TableLoad:
    """One table after loading: what was accepted, quarantined and blanked."""

    table: str
    source: str  # the file or folder, as the user named it
    files: list[Path]
    accepted: pd.DataFrame  # parsed; with source_row (and source_file for folders)
    quarantined: pd.DataFrame  # original columns, source_row, reason, reason_kind; personal columns redacted
    blanked: pd.DataFrame  # source_row, column, value, reason, reason_kind
    rows_read: int
    notes: dict = field(default_factory=dict)
    #: Event-scale tables keep their accepted rows on disk (or in the warehouse):
    #: one Parquet file, or the store's parts (a list of files).
    accepted_path: Path | list[Path] | None = None
    accepted_rows: int | None = None
    #: The earliest and latest date in the table's ``occurred`` column, among accepted rows.
    first_date: pd.Timestamp | None = None
    last_date: pd.Timestamp | None = None

    @property
    def quality(self) -> dict:
        return {
            "rows_read": int(self.rows_read),
            "rows_accepted": int(len(self.accepted) if self.accepted_rows is None else self.accepted_rows),
            "rows_quarantined": int(len(self.quarantined)),
            "cells_blanked": int(len(self.blanked)),
        }

    def date_range(self) -> None:
        """Fill ``first_date``/``last_date`` from the accepted rows."""
        column = TABLES[self.table].occurred
        if self.accepted_path is not None or self.accepted_rows is not None:
            return  # event-scale: the dates were measured where the events are
        if column and column in self.accepted.columns and self.accepted[column].notna().any():
            values = pd.to_datetime(self.accepted[column])
            self.first_date, self.last_date = values.min().normalize(), values.max().normalize()


@dataclass
class Loaded:
    """A loaded data folder: accepted tables plus everything set aside."""

    data_dir: Path
    config: dict
    tables: dict[str, TableLoad]
    #: The warehouse events (an Ibis expression of accepted rows) when events live there.
    warehouse_events: object | None = None
    #: ``[churn_labels]``: label, account_id, known (see :mod:`vga.load.labels`)
    churn_labels: pd.DataFrame | None = None

    def get(self, table: str):
        """The accepted rows of ``table`` (a data frame), or None when it was not given."""
        loaded = self.tables.get(table)
        return None if loaded is None else loaded.accepted

    def has(self, table: str) -> bool:
        return table in self.tables

    def events_path(self) -> Path | None:
        """The accepted events' Parquet file (events from a data folder)."""
        loaded = self.tables.get("usage_events")
        return None if loaded is None else loaded.accepted_path

    def events_frame(self) -> pd.DataFrame | None:
        """The accepted events in memory: for small data and tests only."""
        path = self.events_path()
        if path is None:
            return None
        if isinstance(path, list):  # parts kept by the incremental store
            return pd.concat([pd.read_parquet(p) for p in path], ignore_index=True)
        return pd.read_parquet(path)

    def data_quality(self) -> dict:
        return {name: t.quality for name, t in self.tables.items()}

    def reasons(self, first_rows: int = 5) -> pd.DataFrame:
        """Each kind of reason per table: a count, one real example (personal
        values redacted) and the first row numbers."""
        rows = []
        for name, t in self.tables.items():
            for action, frame in (("quarantined", t.quarantined), ("blanked", t.blanked)):
                if frame.empty:
                    continue
                for kind, group in frame.groupby("reason_kind", sort=True):
                    rows_ = group["source_row"].astype("Int64").head(first_rows).tolist()
                    where = ["" if pd.isna(r) else str(int(r)) for r in rows_]
                    if "source_file" in group.columns:
                        where = [f"{f}:{r}" for f, r in zip(group["source_file"].head(first_rows), where)]
                    rows.append({"table": name, "action": action, "kind": kind, "count": len(group),
                                 "example": group["reason"].iloc[0], "first_rows": ", ".join(w for w in where if w)})
        return pd.DataFrame(rows, columns=["table", "action", "kind", "count", "example", "first_rows"])

    def write_quarantine(self, folder: Path) -> list[Path]:
        """Write ``<table>.csv`` and ``<table>_cells.csv`` for tables with any."""
        folder.mkdir(parents=True, exist_ok=True)
        written = []
        for name, t in self.tables.items():
            for frame, path in ((t.quarantined, folder / f"{name}.csv"), (t.blanked, folder / f"{name}_cells.csv")):
                if len(frame):
                    # rejected rows keep their text, but nothing in them may run as a spreadsheet formula
                    safe_frame(frame.drop(columns=INTERNAL, errors="ignore")).to_csv(path, index=False)
                    written.append(path)
        return written

    def problems(self, limit: int = 20) -> list[str]:
        """One line per quarantined row or blanked cell: file, row, column, reason."""
        lines = []
        for t in self.tables.values():
            for frame in (t.quarantined, t.blanked):
                for _, r in frame.head(limit).iterrows():
                    where = r.get("source_file") if "source_file" in frame.columns else t.source
                    col = f" column '{r['column']}'" if "column" in frame.columns else ""
                    row = "" if pd.isna(r["source_row"]) else f" row {int(r['source_row'])}"
                    lines.append(f"{where}{row}{col}: {r['reason']}")
        return lines

    def sources(self) -> pd.DataFrame:
        """Per table given: the source, rows read / accepted / quarantined /
        blanked, and the dates it covers (its ``occurred`` column)."""
        rows = []
        for name, t in self.tables.items():
            source = t.source.replace(str(self.data_dir), "").lstrip("/\\") or t.source
            rows.append({"table": name, "source": source, **t.quality, "dated_by": TABLES[name].occurred or "",
                         "first_date": t.first_date, "last_date": t.last_date})
        return pd.DataFrame(rows, columns=["table", "source", "rows_read", "rows_accepted", "rows_quarantined",
                                           "cells_blanked", "dated_by", "first_date", "last_date"])

    def identity_resolution(self) -> dict | None:
        """How events were tied to accounts: counts by route and the unresolved."""
        if not self.has("usage_events"):
            return None
        notes = self.tables["usage_events"].notes
        routes = notes.get("resolved_by", {})
        resolved = sum(routes.values())
        total = resolved + notes.get("unresolved", 0)
        return {
            "events_with_account_id": routes.get("given", 0),
            "resolved_through_users": routes.get("users", 0),
            "resolved_through_email_domain": routes.get("domain", 0),
            "unresolved_quarantined": notes.get("unresolved", 0),
            "resolution_rate": (resolved / total) if total else None,
        }

    def manifest(self) -> list[dict]:
        """Per table: source path, sha256 of each file, rows read/accepted/quarantined, dates covered."""
        out = []
        for name, t in self.tables.items():
            out.append({
                "table": name,
                "path": t.source,
                "files": [{"path": str(f), "sha256": sha256(f)} for f in t.files],
                **t.quality,
                "first_date": None if t.first_date is None else t.first_date.date().isoformat(),
                "last_date": None if t.last_date is None else t.last_date.date().isoformat(),
            })
        return out
