"""Running a period: load once, execute the notebook series, build the report.

Only this module executes notebooks and writes run folders. A run is written
to a temporary folder beside its final place and moved there only when it
succeeded, so a failed run leaves earlier reports untouched. Layout (outputs
spec)::

    <out>/<period>/report.html, notebooks/, results/, quarantine/, manifest.json
"""

from __future__ import annotations

import hashlib
import json
import pickle
import platform
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

import pandas as pd

from .config import config_hash, load_config
from .errors import DataError, UsageError, VgaError
from .load import Dataset, input_manifest, load_folder
from .periods import Period, parse_period

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = ROOT / "notebooks"

#: The series, in execution order: (file stem, title in the report).
SERIES = [
    ("02_data_gathering", "Data gathering"),
    ("05_pattern_slicing", "Pattern slicing"),
    ("07_quadrant_view", "The Usage-Health quadrant"),
    ("11_executive_summary", "Executive summary"),
]
#: The order a reader sees them in the report: the summary first.
REPORT_ORDER = ["11_executive_summary", "02_data_gathering", "05_pattern_slicing", "07_quadrant_view"]
WORK = "_work"
PACKAGES = [
    "vga", "pandas", "numpy", "pyarrow", "pandera", "scipy", "statsmodels", "matplotlib", "seaborn",
    "papermill", "nbconvert", "ibis-framework", "duckdb", "sqlglot",
]


# --------------------------------------------------------------------------
# What a notebook opens


@dataclass
class RunContext:
    """Everything a notebook of the series needs, from its parameters."""

    data_dir: Path
    period: Period
    config: dict
    run_dir: Path | None
    reports_dir: Path | None
    dataset: Dataset = field(repr=False, default=None)

    @property
    def results_dir(self) -> Path | None:
        return None if self.run_dir is None else self.run_dir / "results"

    def save_csv(self, name: str, frame: pd.DataFrame) -> Path | None:
        """Write ``results/<name>`` (CSV rules of the outputs spec) when in a run."""
        from .results import write_csv

        return None if self.results_dir is None else write_csv(frame, self.results_dir / name)

    def save_json(self, name: str, data: dict) -> Path | None:
        from .results import write_json

        return None if self.results_dir is None else write_json(data, self.results_dir / name)

    def quadrants(self) -> pd.DataFrame:
        """The quadrant table: this run's ``results/quadrants.csv`` when the
        quadrant step already wrote it, else computed (standalone use)."""
        from .analysis import quadrant_table

        path = None if self.results_dir is None else self.results_dir / "quadrants.csv"
        if path is not None and path.is_file():
            return pd.read_csv(path, dtype={"account_id": str, "quadrant": str, "previous_quadrant": str},
                               keep_default_na=False, na_values=[""])
        return quadrant_table(self.dataset, self.period, self.previous_run_quadrants())

    def previous_run_quadrants(self) -> pd.DataFrame | None:
        """``results/quadrants.csv`` of the previous period's run, if any."""
        if self.reports_dir is None:
            return None
        path = self.reports_dir / self.period.previous_label / "results" / "quadrants.csv"
        if not path.is_file():
            return None
        return pd.read_csv(path, dtype={"account_id": str, "quadrant": str}, keep_default_na=False)


def open_run(data_dir: str, period: str, config: str = "", run_dir: str = "", reports_dir: str = "") -> RunContext:
    """Open a run for a notebook: parse the period, load the configuration
    and data (reusing what ``vga run`` already loaded, when it did)."""
    p = parse_period(period)
    run = Path(run_dir) if run_dir else None
    cached = run / WORK / "dataset.pkl" if run else None
    if cached is not None and cached.is_file():
        with open(cached, "rb") as fh:
            dataset = pickle.load(fh)
        cfg = dataset.config
    else:
        cfg = load_config(config or None, data_dir)
        dataset = load_folder(data_dir, cfg)
    return RunContext(Path(data_dir), p, cfg, run, Path(reports_dir) if reports_dir else None, dataset)


# --------------------------------------------------------------------------
# Running a period


def _versions() -> dict:
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def _say(text: str, quiet: bool) -> None:
    if not quiet:
        print(text, flush=True)


def run_period(
    data_dir: str | Path,
    period: str,
    *,
    config_path: str | Path | None = None,
    out: str | Path = "reports",
    force: bool = False,
    strict: bool = False,
    quiet: bool = False,
) -> Path:
    """Run the series for ``period`` and return the finished run folder.

    Raises :class:`UsageError` (bad period, existing folder without
    ``force``) or :class:`DataError` (data unusable) before any notebook
    runs, and :class:`VgaError` when a notebook fails; in every failure the
    existing reports are left as they were.
    """
    import papermill

    started = time.time()
    p = parse_period(period)
    data_dir = Path(data_dir).resolve()
    out = Path(out).resolve()
    final = out / p.label
    if final.exists() and not force:
        raise UsageError(f"{final} already exists; pass --force to replace it, or --out to write elsewhere")
    config = load_config(config_path, data_dir)
    _say(f"[vga] loading {data_dir}", quiet)
    dataset = load_folder(data_dir, config, strict=strict)
    for name, quality in dataset.data_quality().items():
        _say(
            f"[vga]   {name:<16} {quality['rows_read']:>10,} read  {quality['rows_accepted']:>10,} accepted  "
            f"{quality['rows_quarantined']:>6,} quarantined  {quality['cells_blanked']:>4,} cells blanked",
            quiet,
        )
    out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{p.label}.", suffix=".partial", dir=out))
    try:
        for sub in ("notebooks", "results", "quarantine", WORK):
            (tmp / sub).mkdir()
        with open(tmp / WORK / "dataset.pkl", "wb") as fh:
            pickle.dump(dataset, fh, protocol=pickle.HIGHEST_PROTOCOL)
        dataset.write_quarantine(tmp / "quarantine")
        timings = {}
        params = {
            "data_dir": str(data_dir),
            "period": p.label,
            "config": str(config_path or ""),
            "run_dir": str(tmp),
            "reports_dir": str(out),
        }
        for i, (stem, title) in enumerate(SERIES, start=1):
            _say(f"[vga] [{i}/{len(SERIES)}] {title}", quiet)
            t0 = time.time()
            try:
                papermill.execute_notebook(
                    str(NOTEBOOK_DIR / f"{stem}.ipynb"),
                    str(tmp / "notebooks" / f"{stem}.ipynb"),
                    parameters=params,
                    progress_bar=False,
                    kernel_name="python3",
                    cwd=str(NOTEBOOK_DIR),
                )
            except papermill.PapermillExecutionError as exc:
                raise VgaError(
                    f"notebook {stem} failed in cell {exc.exec_count}: {exc.ename}: {exc.evalue}; "
                    f"the executed notebook is kept at {tmp / 'notebooks' / (stem + '.ipynb')} until the next run; "
                    "earlier reports are untouched"
                ) from None
            timings[stem] = round(time.time() - t0, 3)
        titles = dict(SERIES)
        from .report import build_report

        build_report(
            [(titles[s], tmp / "notebooks" / f"{s}.ipynb") for s in REPORT_ORDER],
            tmp / "report.html",
            title=f"Value gap analysis: {p.label}",
            subtitle=f"As of {p.as_of.isoformat()} · retention window {p.window_start.isoformat()} to {p.as_of.isoformat()}",
        )
        manifest = {
            "period": p.as_dict(),
            "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "parameters": {k: v for k, v in params.items() if k != "run_dir"} | {"strict": strict, "force": force},
            "inputs": input_manifest(dataset),
            "configuration": {k: v for k, v in config.items() if not k.startswith("_")},
            "configuration_file": config.get("_file"),
            "configuration_sha256": config_hash(config),
            "versions": _versions(),
            "platform": platform.platform(),
            "timings_seconds": timings | {"total": round(time.time() - started, 3)},
        }
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str), encoding="utf-8")
        shutil.rmtree(tmp / WORK)
        _move_into_place(tmp, final)
    except BaseException:
        if tmp.exists() and not any((tmp / "notebooks").glob("*.ipynb")):
            shutil.rmtree(tmp, ignore_errors=True)
        raise
    _say(f"[vga] done in {time.time() - started:.1f} s", quiet)
    return final


def _move_into_place(tmp: Path, final: Path) -> None:
    """Replace ``final`` with ``tmp`` so that a reader never sees half a run."""
    old = None
    if final.exists():
        old = final.with_name(f".{final.name}.old-{int(time.time())}")
        final.rename(old)
    tmp.rename(final)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
