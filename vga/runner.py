"""Running a period: load once, compute every step once, present, report.

Only this module writes run folders. The flow (see ARCHITECTURE.md)::

    exports --load--> Inputs --steps (once)--> results/ --notebooks--> report.html

A run is written to a temporary folder beside its final place and moved
there only when it succeeded, so a failed run leaves earlier reports
untouched. Layout (outputs spec)::

    <out>/<period>/report.html, notebooks/, results/, quarantine/, manifest.json
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import time
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

from . import pipeline
from .config import config_hash, load_config, redacted, scrub
from .coverage import assess
from .errors import UsageError
from .load import load_folder, previous_quadrants, to_inputs
from .periods import parse_period
from .steps import STEPS

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = ROOT / "notebooks"
#: The notebooks of the series, in step order: (file stem, title in the report).
SERIES = [(s.notebook, s.title) for s in sorted(STEPS.values(), key=lambda s: s.number) if s.notebook]
#: The steps of a value gap analysis; the report names any this run lacks.
VGA_STEPS = {1: "Programme set-up", 2: "Data gathering", 3: "Churned customers", 4: "Renewed and expanded customers",
             5: "Pattern slicing", 6: "Voice of the customer", 7: "The Usage-Health quadrant", 8: "Quick wins",
             9: "MVP and intervention tracking", 10: "Journey map", 11: "Executive summary"}
#: The order a reader sees them in the report: the summary first.
REPORT_ORDER = ["11_executive_summary"] + [stem for stem, _ in SERIES if stem != "11_executive_summary"]
WORK = "_work"
#: Notebooks executed at once (each in its own kernel); VGA_NOTEBOOK_WORKERS overrides.
NOTEBOOK_WORKERS = int(os.environ.get("VGA_NOTEBOOK_WORKERS", "2"))
PACKAGES = [
    "vga", "pandas", "numpy", "pyarrow", "pandera", "scipy", "statsmodels", "matplotlib", "seaborn",
    "papermill", "nbconvert", "ibis-framework", "duckdb", "sqlglot",
]


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


class Progress:
    """What a run shows while it works: a progress bar over the steps and
    notebooks on a terminal (tqdm), one line per event elsewhere (CI logs),
    nothing when quiet."""

    def __init__(self, total: int, quiet: bool):
        import sys

        self.quiet = quiet
        self.bar = None
        if not quiet and sys.stdout.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit="part", desc="[vga]", leave=False, dynamic_ncols=True)

    def say(self, text: str) -> None:
        if self.quiet:
            return
        if self.bar is not None:
            self.bar.write(text)
        else:
            print(text, flush=True)

    def advance(self, text: str) -> None:
        if self.bar is not None:
            self.bar.set_postfix_str(text, refresh=False)
            self.bar.update(1)
        else:
            self.say(f"[vga] {text}")

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _table_line(load) -> str:
    q = load.quality
    dates = f"  to {load.last_date.date().isoformat()}" if load.last_date is not None else ""
    return (f"[vga]   {load.table:<16} {q['rows_read']:>10,} read  {q['rows_accepted']:>10,} accepted  "
            f"{q['rows_quarantined']:>6,} quarantined  {q['cells_blanked']:>4,} cells blanked{dates}")


def run_period(
    data_dir: str | Path,
    period: str,
    *,
    config_path: str | Path | None = None,
    out: str | Path = "reports",
    force: bool = False,
    strict: bool = False,
    quiet: bool = False,
    debug: bool = False,
    redact: bool = False,
) -> Path:
    """Run the series for ``period`` and return the finished run folder.

    Input problems come first: a bad period or configuration
    (:class:`UsageError`) and unusable data (:class:`DataError`) are raised
    before the output folder is looked at. ``redact`` replaces account and
    team names by stable pseudonyms everywhere in the run folder
    (:mod:`vga.redact`). Then an existing period folder
    without ``force`` (:class:`UsageError`); a failing notebook raises
    :class:`VgaError`. In every failure existing reports are left as they were.
    """
    started = time.time()
    p = parse_period(period)
    data_dir = Path(data_dir).resolve()
    out = Path(out).resolve()
    final = out / p.label
    config = load_config(config_path, data_dir)
    from .kernels import KernelPool, execute

    out.mkdir(parents=True, exist_ok=True)
    tmp = out / f".{p.label}.{os.getpid()}.partial"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()  # honours the umask: a shared report stays readable
    pool = None
    bar = None
    try:
        for sub in ("notebooks", "results", "quarantine", WORK):
            (tmp / sub).mkdir()
        # Kernels start while the data loads: notebooks never wait for one.
        pool = KernelPool(NOTEBOOK_WORKERS, len(SERIES), tmp / WORK / "kernels.log", NOTEBOOK_DIR)
        timings: dict = {}
        _say(f"[vga] loading {data_dir}", quiet)
        t0 = time.time()
        loaded = load_folder(data_dir, config, strict=strict, work_dir=tmp / WORK,
                             progress=lambda load: _say(_table_line(load), quiet))
        timings["load"] = round(time.time() - t0, 3)
        if final.exists() and not force:
            raise UsageError(f"{final} already exists; pass --force to replace it, or --out to write elsewhere")
        coverage = assess(loaded.sources(), p.as_of, config["analysis"].get("data_end", ""))
        for warning in coverage.warnings():
            _say(f"[vga] warning: {warning}", quiet)
        inputs = to_inputs(loaded, previous_quadrants(out, p.previous_label))
        loaded.write_quarantine(tmp / "quarantine")
        if redact:
            from .redact import redact_folder, redact_inputs

            inputs = redact_inputs(inputs)
            redact_folder(tmp / "quarantine")
        bar = Progress(len(STEPS) + len(SERIES) + 1, quiet)
        t0 = time.time()
        outputs, step_seconds = pipeline.compute(
            inputs, p, config, progress=lambda step, s: bar.advance(f"computed {step.title.lower()} ({s:.1f} s)"))
        timings["compute"] = round(time.time() - t0, 3)
        t0 = time.time()
        pipeline.write(outputs, tmp / "results")
        timings["write_results"] = round(time.time() - t0, 3)
        timings["steps"] = step_seconds
        params = {"data_dir": str(data_dir), "period": p.label, "config": str(Path(config_path).resolve()) if config_path else "",
                  "run_dir": str(tmp), "reports_dir": str(out)}
        jobs = [(stem, NOTEBOOK_DIR / f"{stem}.ipynb", tmp / "notebooks" / f"{stem}.ipynb") for stem, _ in SERIES]
        done = []

        def progress(name, seconds):
            done.append(name)
            bar.advance(f"[{len(done)}/{len(jobs)}] presented {dict(SERIES)[name].lower()} ({seconds:.1f} s)")

        t0 = time.time()
        try:
            timings |= execute(jobs, params, pool, workers=NOTEBOOK_WORKERS, progress=progress)
            timings["notebooks"] = round(time.time() - t0, 3)
        except BaseException:
            if debug:
                print((tmp / WORK / "kernels.log").read_text(errors="replace"), flush=True)
            raise
        from .report import build_report

        titles = dict(SERIES)
        t0 = time.time()
        build_report(
            [(titles[s], tmp / "notebooks" / f"{s}.ipynb") for s in REPORT_ORDER],
            tmp / "report.html",
            title=f"Value gap analysis: {p.label}",
            subtitle=f"As of {p.as_of.isoformat()} · retention window {p.window_start.isoformat()} to {p.as_of.isoformat()}",
            warnings=coverage.warnings(),
            missing=[f"Step {n} · {title}" for n, title in VGA_STEPS.items() if n not in {s.number for s in STEPS.values() if s.notebook}],
        )
        timings["report"] = round(time.time() - t0, 3)
        bar.advance("report written")
        bar.close()
        manifest = {
            "period": p.as_dict(),
            "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "parameters": {k: v for k, v in params.items() if k != "run_dir"} | {"strict": strict, "force": force,
                                                                                 "redact": redact},
            "inputs": loaded.manifest(),
            "coverage": coverage.as_dict(),
            "configuration": redacted(config),
            "configuration_file": config.get("_file"),
            "configuration_sha256": config_hash(config),
            "versions": _versions(),
            "platform": platform.platform(),
            "timings_seconds": timings | {"total": round(time.time() - started, 3)},
        }
        text = scrub(json.dumps(manifest, indent=2, default=str), config)
        (tmp / "manifest.json").write_text(text, encoding="utf-8")
        pool.close()
        pool = None
        shutil.rmtree(tmp / WORK)
        _move_into_place(tmp, final)
    except BaseException:
        if bar is not None:
            bar.close()
        if pool is not None:
            pool.close()
        # Accepted events (with user ids) never outlive the run; executed
        # notebooks of a failed run are kept to read what went wrong.
        shutil.rmtree(tmp / WORK, ignore_errors=True)
        if tmp.exists() and not any((tmp / "notebooks").glob("*.ipynb")):
            shutil.rmtree(tmp, ignore_errors=True)
        raise
    for stale in out.glob(f".{p.label}.*.partial"):  # leftovers of earlier failed runs
        shutil.rmtree(stale, ignore_errors=True)
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
