"""Bounds on the work a data folder can make vga do.

A data folder and its ``vga.toml`` may come from anyone. Whatever they
hold, a run ends: every mapping query has a time and a memory limit, and
every file, cell and workbook read into memory has a size limit. The
defaults are far above what an export of a B2B company needs (a 250,000-
account CRM export is a few hundred MB); an operations leader who needs
more raises them in a ``[limits]`` section of a ``vga.toml`` of their own
(``--config``). A data folder's own ``vga.toml`` cannot raise them: a
hostile folder would lift its own bounds first.

==================  ==========  ==================================================
setting             default     what it bounds
==================  ==========  ==================================================
query_seconds       300         seconds one mapping query may run
query_memory        "2GB"       DuckDB memory of one mapping query (a table's)
result_bytes        1 GiB       what one mapping query may return, in memory
cell_bytes          1 MiB       one cell of a table read into memory
file_bytes          4 GiB       one table file read into memory (events apart:
                                DuckDB scans them out of core)
workbook_bytes      256 MiB     what an .xlsx may expand to, every part of its
                                archive counted
glob_files          10,000      files one glob of a mapping query may match
==================  ==========  ==================================================
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields

#: The ``[limits]`` section's defaults (vga.config.DEFAULTS holds the same).
DEFAULTS = {
    "query_seconds": 300,
    "query_memory": "2GB",
    "result_bytes": 1024**3,
    "cell_bytes": 1024**2,
    "file_bytes": 4 * 1024**3,
    "workbook_bytes": 256 * 1024**2,
    "glob_files": 10_000,
}

_MEMORY = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Limits:
    """The bounds of one run (see the module docstring for each)."""

    query_seconds: float = DEFAULTS["query_seconds"]
    query_memory: str = DEFAULTS["query_memory"]
    result_bytes: int = DEFAULTS["result_bytes"]
    cell_bytes: int = DEFAULTS["cell_bytes"]
    file_bytes: int = DEFAULTS["file_bytes"]
    workbook_bytes: int = DEFAULTS["workbook_bytes"]
    glob_files: int = DEFAULTS["glob_files"]


def problem(name: str, value) -> str | None:
    """Why ``value`` cannot be the ``[limits]`` setting ``name``, or None."""
    if name not in DEFAULTS:
        return f"unknown setting; known: {', '.join(DEFAULTS)}"
    if name == "query_memory":
        if not isinstance(value, str) or not _MEMORY.match(value):
            return 'must be an amount of memory such as "2GB" or "512MB"'
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        return "must be a number above 0"
    return None


def limits_of(config: dict | None) -> Limits:
    """The run's :class:`Limits` from a resolved configuration (defaults
    where it says nothing)."""
    given = dict((config or {}).get("limits") or {})
    return Limits(**{f.name: given.get(f.name, f.default) for f in fields(Limits)})


def size(amount: int) -> str:
    """Bytes as people write them: '256 MiB', '1 GiB', '4,096 bytes'."""
    for unit, power in (("GiB", 3), ("MiB", 2), ("KiB", 1)):
        if amount >= 1024**power and amount % 1024**power == 0:
            return f"{amount // 1024**power:,} {unit}"
    if amount >= 1024**2:
        return f"{amount / 1024**2:,.1f} MiB"
    return f"{amount:,} bytes"
