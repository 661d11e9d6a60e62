"""Step 1, programme set-up: sponsor, task force and workstreams, from
the optional ``[programme]`` section of ``vga.toml``."""

from __future__ import annotations

from datetime import date

import pandas as pd

from ..outputs import PROGRAMME_JSON, WORKSTREAMS_CSV
from ..settings import Programme
from . import Context, Node, Output

WORKSTREAM_COLUMNS = ["name", "owner", "start", "due", "status", "late", "days_to_due"]


def workstreams(programme: Programme, as_of: date) -> pd.DataFrame:
    """One row per workstream with its status as of ``as_of``: ``late`` is
    true when the due date has passed and the workstream is not done
    (whatever status was typed), or when it was marked late;
    ``days_to_due`` is negative when overdue."""
    rows = []
    for stream in programme.workstreams:
        due = date.fromisoformat(str(stream["due"]))
        start = date.fromisoformat(str(stream["start"])) if stream.get("start") else None
        status = str(stream.get("status", "not started")).strip().lower()
        late = status == "late" or (status != "done" and due < as_of)
        rows.append({"name": str(stream["name"]), "owner": str(stream["owner"]),
                     "start": pd.Timestamp(start) if start else pd.NaT, "due": pd.Timestamp(due),
                     "status": "late" if late else status, "late": late, "days_to_due": (due - as_of).days})
    frame = pd.DataFrame(rows, columns=WORKSTREAM_COLUMNS)
    return frame.sort_values(["due", "name"]).reset_index(drop=True) if len(frame) else frame


def compute(run: Context, upstream: dict) -> dict:
    programme = run.settings.programme
    configured = bool(programme.sponsor or programme.task_force or programme.workstreams)
    return {
        PROGRAMME_JSON: {"configured": configured, "sponsor": programme.get("sponsor", ""),
                           "task_force": list(programme.task_force), "as_of": run.period.as_of.isoformat()},
        WORKSTREAMS_CSV: workstreams(programme, run.period.as_of) if programme.workstreams else None,
    }


NODE = Node(
    key="programme_setup", title="Programme set-up", compute=compute,
    outputs=(
        Output(PROGRAMME_JSON, "whether a programme is configured; sponsor and task force"),
        Output(WORKSTREAMS_CSV, "one row per workstream: owner, dates, status as of the as-of date, late",
               {"name": "str", "owner": "str", "start": "date", "due": "date", "status": "str", "late": "bool",
                "days_to_due": "int"}, optional=True),
    ),
)
