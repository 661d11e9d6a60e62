"""What the steps of a run compute from: the accepted input, as plain frames.

:class:`Inputs` is built by the loader (:mod:`vga.load`) and read by the
steps (:mod:`vga.nodes`); it holds no loader objects, so an analyst can also
build one by hand from data frames (``Inputs.from_frames``). Product events
can be far larger than memory: they are an Ibis table, over the accepted
events' Parquet file (DuckDB) or over the warehouse table (validated where it
lives).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .contract import TABLES


@dataclass
class Events:
    """The accepted product events, as an Ibis table on demand.

    Steps run side by side in threads, and one DuckDB connection serves one
    call at a time: each thread gets its own connection over the same file
    (or frame). A warehouse expression is shared: its driver serialises calls.
    """

    path: Path | None = None  # accepted events as Parquet (local DuckDB)
    expression: object | None = None  # an Ibis table (warehouse)
    where: str = "usage_events"  # "usage_events" (data folder) or "warehouse"
    frame: pd.DataFrame | None = field(default=None, repr=False)  # events given as a frame
    _local: threading.local = field(default_factory=threading.local, repr=False)

    def table(self):
        """An Ibis table with ``timestamp`` (naive UTC), ``account_id``,
        ``user_id``, ``session_id`` and ``feature``."""
        if self.expression is not None:
            return self.expression
        table = getattr(self._local, "table", None)
        if table is None:
            from .engine import as_table, connect

            table = self._local.table = as_table(connect(), self.frame if self.frame is not None else self.path)
        return table

    def __getstate__(self):  # an open connection is not state
        return {k: v for k, v in self.__dict__.items() if k != "_local"}

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._local = threading.local()


#: Optional columns without which an analysis of their table says nothing:
#: (table, column) -> what needs it. Given without them, the table counts as
#: not given for those analyses, and data gathering says so.
NEEDED_COLUMNS = {
    ("workflow_runs", "completed_at"): "workflow completion (in the usage score) and where workflows are abandoned",
    ("onboarding", "completed_at"): "which onboarding milestones were completed or missed",
}


@dataclass(frozen=True)
class Inputs:
    """Accepted tables and the facts about them that a run reports; not
    changed once built (a changed copy is ``dataclasses.replace(inputs, ...)``)."""

    tables: dict[str, pd.DataFrame]
    events: Events | None = None
    #: per table: source, rows read/accepted/quarantined/blanked, dated_by, first_date, last_date
    sources: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: per kind of reason: table, action, kind, count, example, first_rows
    reasons: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: how events were tied to accounts (None without events)
    identity: dict | None = None
    #: the previous period's run ``results/quadrants.csv``, when one exists
    previous_quadrants: pd.DataFrame | None = None
    #: other churn labels of the export (``[churn_labels]``): label, account_id, known
    churn_labels: pd.DataFrame | None = None
    #: per account and whole calendar month, the usage measures of
    #: :func:`vga.analysis.usage.monthly_usage`, kept by the incremental store
    #: (:mod:`vga.run.refresh`); None: computed from the events when needed
    monthly_usage: pd.DataFrame | None = None

    def table(self, name: str, needs: tuple[str, ...] = ()) -> pd.DataFrame | None:
        """The accepted rows of ``name``, or None when it was not given, or
        when it lacks one of the optional columns ``needs`` names (a
        workflow run without ``completed_at`` says nothing of completion:
        no column is no data, never "none completed")."""
        frame = self.tables.get(name)
        if frame is None or any(c not in frame.columns for c in needs):
            return None
        return frame

    def lacks(self, name: str, needs: tuple[str, ...] = ()) -> str | None:
        """Why :meth:`table` gives None for ``name`` and ``needs``, in words;
        None when it gives the table."""
        frame = self.tables.get(name)
        if frame is None:
            return f"no {name} table was given"
        absent = [c for c in needs if c not in frame.columns]
        if absent:
            return f"the {name} table has no {', '.join(absent)} column, which {NEEDED_COLUMNS.get((name, absent[0]), 'this needs')} needs"
        return None

    def has(self, name: str) -> bool:
        return name in self.tables or (name == "usage_events" and self.events is not None)

    def quality(self) -> dict:
        """``data_quality`` of summary.json: per table given, the row counts."""
        keys = ["rows_read", "rows_accepted", "rows_quarantined", "cells_blanked"]
        return {r["table"]: {k: int(r[k]) for k in keys} for _, r in self.sources.iterrows()}

    @classmethod
    def from_frames(cls, **frames: pd.DataFrame) -> "Inputs":
        """Inputs from already-clean frames (tests, notebooks exploring an idea).

        ``usage_events`` may be a frame: it is read through DuckDB like a file.
        """
        events = frames.pop("usage_events", None)
        unknown = set(frames) - set(TABLES)
        if unknown:
            raise ValueError(f"not tables of the data contract: {sorted(unknown)}")
        ev = Events(frame=events) if events is not None else None
        rows = [{"table": n, "source": "(frame)", "rows_read": len(f), "rows_accepted": len(f), "rows_quarantined": 0,
                 "cells_blanked": 0, "dated_by": TABLES[n].occurred or "", "first_date": None, "last_date": None}
                for n, f in frames.items()]
        return cls(dict(frames), ev, pd.DataFrame(rows))
