"""``manifest.json``: what a run was made from, with which settings and
versions, and how long each part took (outputs spec, "Run outputs")."""

from __future__ import annotations

import json
import platform
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

from .. import __version__
from ..config import config_hash, redacted, scrub

#: The packages whose versions a manifest records.
PACKAGES = [
    "pandas", "numpy", "pyarrow", "pandera", "scipy", "statsmodels", "matplotlib", "seaborn",
    "papermill", "nbconvert", "ibis-framework", "duckdb", "sqlglot",
]


def versions() -> dict:
    """Python's, vga's and each package's version (None where not installed)."""
    out = {"python": platform.python_version(), "vga": __version__}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def write_manifest(path: Path, *, period, parameters: dict, inputs: dict, coverage: dict, config: dict,
                   timings: dict, incremental_store: dict, reused: dict | None = None) -> None:
    """Write the manifest; secrets of the configuration are scrubbed from
    all of it (:func:`vga.config.scrub`)."""
    manifest = {
        "period": period.as_dict(),
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "parameters": parameters,
        "inputs": inputs,
        "coverage": coverage,
        "configuration": redacted(config),
        "configuration_file": config.get("_file"),
        "configuration_sha256": config_hash(config),
        "versions": versions(),
        "platform": platform.platform(),
        "timings_seconds": timings,
        "incremental_store": incremental_store,
        # What this run took from the last run of the period instead of computing (vga.run.reuse).
        "reused": reused or {"steps": [], "notebooks": []},
    }
    path.write_text(scrub(json.dumps(manifest, indent=2, default=str), config), encoding="utf-8")
