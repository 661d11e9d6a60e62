"""Running a period: load once, compute every step once, present, report.

Only this module writes run folders. The flow (see ARCHITECTURE.md)::

    exports --load--> Inputs --steps (once)--> results/ --notebooks--> report.html

A run is written to a temporary folder beside its final place and moved
there only when it succeeded, so a failed run leaves earlier reports
untouched. Layout (outputs spec)::

    <out>/<period>/report.html, notebooks/, results/, quarantine/, manifest.json

Faults. A run holds ``<out>/.<period>.lock`` (``flock``) from before it
loads until it is done, so a second run of the same period into the same
folder refuses at once (:class:`~vga.errors.OutputError`, naming the pid and
host that holds it); the kernel drops the lock of a killed run. The run
writes to ``<out>/.<period>.<pid>.partial`` and swaps it with the period
folder in one atomic rename, so a run stopped at any moment (Ctrl-C, kill
-9) leaves the earlier report as it was; what a killed run left
behind is removed by the next run of the period. A read-only, unwritable or
full reports folder stops the run with one message naming the folder.
"""

from __future__ import annotations

import errno
import json
import os
import platform
import shutil
import socket
import sys
import time
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

from . import pipeline
from .config import config_hash, config_notice, load_config, redacted, scrub
from .coverage import assess
from .errors import OutputError, PartialPeriodError, UsageError, write_fault
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
    rebuild: bool = False,
    allow_outside: bool = False,
    allow_partial: bool = False,
) -> Path:
    """Run the series for ``period`` and return the finished run folder.

    Validated events and monthly usage are kept between runs in
    ``<out>/.vga-store`` (:mod:`vga.load.store`, :mod:`vga.refresh`): a
    refresh validates and aggregates only what changed. ``rebuild`` empties
    that store first (the figures are the same either way).

    A bad period or configuration (:class:`UsageError`) is raised before
    the output folder is looked at. Then the period's lock is taken: another
    run of the period writing to ``out``, or an ``out`` that cannot be
    written (read-only, no permission, full), raises :class:`OutputError`
    (as does a write that fails later). Unusable data raises
    :class:`DataError`. ``redact`` replaces account and
    team names by stable pseudonyms everywhere in the run folder
    (:mod:`vga.redact`). Then an existing period folder
    without ``force`` (:class:`UsageError`); data that does not reach the
    period's as-of date, unless ``allow_partial``
    (:class:`~vga.errors.PartialPeriodError`, exit 3); a failing notebook raises
    :class:`VgaError`. In every failure, and when the run is interrupted or
    killed, existing reports are left as they were.
    """
    started = time.time()
    p = parse_period(period)
    data_dir = Path(data_dir).resolve()
    out = Path(out).resolve()
    config = load_config(config_path, data_dir)
    lock = None
    try:
        out.mkdir(parents=True, exist_ok=True)
        lock = _take_lock(out, p.label)
        _clear_leftovers(out, p.label, quiet)
        return _run_locked(data_dir, p, config, config_path, out, started, force=force, strict=strict, quiet=quiet,
                           debug=debug, redact=redact, rebuild=rebuild, allow_outside=allow_outside,
                           allow_partial=allow_partial)
    except OutputError:
        raise
    except Exception as exc:
        fault = write_fault(exc, out, after="earlier reports are untouched")
        if fault is None:
            raise
        raise fault from exc
    finally:
        _release_store()
        if lock is not None:
            _release_lock(lock)


def _run_locked(data_dir: Path, p, config: dict, config_path, out: Path, started: float, *, force: bool, strict: bool,
                quiet: bool, debug: bool, redact: bool, rebuild: bool, allow_outside: bool = False,
                allow_partial: bool = False) -> Path:
    """The run proper, with the period's lock held."""
    from .kernels import KernelPool, execute

    final = out / p.label
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
        notice = config_notice(config, config_path)
        if notice:
            _say(f"[vga] {notice}", quiet)
        _say(f"[vga] loading {data_dir}", quiet)
        t0 = time.time()
        store = _open_store(out, rebuild, quiet) if _has_events(data_dir, config, allow_outside) else None
        loaded = load_folder(data_dir, config, strict=strict, work_dir=tmp / WORK,
                             progress=lambda load: _say(_table_line(load), quiet), store=store,
                             allow_outside=allow_outside)
        timings["load"] = round(time.time() - t0, 3)
        if final.exists() and not force:
            raise UsageError(f"{final} already exists; pass --force to replace it, or --out to write elsewhere")
        coverage = assess(loaded.sources(), p.as_of, config["analysis"])
        if not coverage.covers_as_of and not allow_partial:
            raise PartialPeriodError(
                f"the data does not cover {p.label}: {coverage.reason} Or pass --allow-partial for a report that says "
                "what it cannot show")
        for warning in coverage.warnings():
            _say(f"[vga] warning: {warning}", quiet)
        inputs = to_inputs(loaded, previous_quadrants(out, p.previous_label))
        t0 = time.time()
        refreshed = _refresh_monthly(store, loaded, inputs, config, quiet)
        timings["monthly_usage"] = round(time.time() - t0, 3)
        loaded.write_quarantine(tmp / "quarantine")
        if redact:
            from .redact import redact_config, redact_folder, redact_inputs, redaction_key

            key = redaction_key(out)
            inputs = redact_inputs(inputs, key)
            config = redact_config(config, key)
            redact_folder(tmp / "quarantine", key)
        bar = Progress(len(STEPS) + len(SERIES) + 1, quiet)
        t0 = time.time()
        outputs, step_seconds = pipeline.compute(
            inputs, p, config, progress=lambda step, s: bar.advance(f"computed {step.title.lower()} ({s:.1f} s)"))
        timings["compute"] = round(time.time() - t0, 3)
        checks = outputs["summary.json"]["plausibility"]
        for warning in checks:
            bar.say(f"[vga] warning: {warning}")
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
        from .report import ReportError, build_report

        titles = dict(SERIES)
        t0 = time.time()
        try:
            build_report(
                [(titles[s], tmp / "notebooks" / f"{s}.ipynb") for s in REPORT_ORDER],
                tmp / "report.html",
                title=f"Value gap analysis: {p.label}",
                subtitle=f"As of {p.as_of.isoformat()} · retention window {p.window_start.isoformat()} to "
                         f"{p.as_of.isoformat()} · amounts in "
                         + (config["report"]["currency"].strip() or "the data's currency"),
                warnings=coverage.warnings() + checks,
                missing=[f"Step {n} · {title}" for n, title in VGA_STEPS.items()
                         if n not in {s.number for s in STEPS.values() if s.notebook}],
            )
        except (ReportError, OSError, KeyboardInterrupt):
            raise
        except Exception as exc:  # any other failure of the last stage: one line, nothing left behind
            raise ReportError(f"the report could not be written ({type(exc).__name__}: "
                              f"{str(exc).strip().splitlines()[0] if str(exc).strip() else 'no detail'}); "
                              "earlier reports are untouched") from exc
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
            "incremental_store": refreshed,
        }
        text = scrub(json.dumps(manifest, indent=2, default=str), config)
        (tmp / "manifest.json").write_text(text, encoding="utf-8")
        pool.close()
        pool = None
        shutil.rmtree(tmp / WORK)
        _move_into_place(tmp, final)
    except BaseException as exc:
        if bar is not None:
            bar.close()
        if pool is not None:
            pool.close()
        # Accepted events (with user ids) never outlive the run; executed
        # notebooks of a failed run are kept to read what went wrong, but
        # not those of an interrupted run or one that could not write.
        shutil.rmtree(tmp / WORK, ignore_errors=True)
        from .report import ReportError

        # A failed notebook is kept to read; a report refused at the last stage is not.
        keep = isinstance(exc, Exception) and not isinstance(exc, ReportError) and write_fault(exc, out) is None
        if tmp.exists() and not (keep and any((tmp / "notebooks").glob("*.ipynb"))):
            shutil.rmtree(tmp, ignore_errors=True)
        raise
    _say(f"[vga] done in {time.time() - started:.1f} s", quiet)
    return final


#: The incremental store, beside the period folders of a reports folder.
STORE_DIR = ".vga-store"


def _open_store(out: Path, rebuild: bool, quiet: bool):
    """The reports folder's incremental store, held for this run (runs of
    other periods into the same folder wait for it), emptied first with
    ``rebuild``."""
    from .load.store import EventStore

    root = out / STORE_DIR
    root.mkdir(exist_ok=True, mode=0o700)
    _hold_store(root, quiet)
    if rebuild:
        for child in root.iterdir():
            if child.name != "lock":
                shutil.rmtree(child) if child.is_dir() else child.unlink()
        _say("[vga] --rebuild: the incremental store was emptied; every event file is validated and every "
             "month aggregated again", quiet)
    return EventStore(root)


_STORE_LOCKS: list[int] = []


def _hold_store(root: Path, quiet: bool) -> None:
    """An exclusive ``flock`` on the store for the rest of this process's
    run (released when the process ends or the run finishes)."""
    try:
        import fcntl
    except ImportError:
        return
    fd = os.open(root / "lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        _say(f"[vga] waiting for the incremental store {root}: another run of this reports folder is using it", quiet)
        fcntl.flock(fd, fcntl.LOCK_EX)
    _STORE_LOCKS.append(fd)


def _release_store() -> None:
    while _STORE_LOCKS:
        os.close(_STORE_LOCKS.pop())


def _has_events(data_dir: Path, config: dict, allow_outside: bool = False) -> bool:
    """Whether the run has product events (a data folder's or a warehouse's): only then is there a store."""
    from .config import warehouse_url
    from .load.files import find_sources

    return "usage_events" in find_sources(data_dir, config, allow_outside) or bool(warehouse_url(config))


def _refresh_monthly(store, loaded, inputs, config: dict, quiet: bool) -> dict:
    """Monthly usage through the store (:mod:`vga.refresh`): months whose
    events are unchanged are read back, the others aggregated. Returns what
    the manifest records: parts and months reused or redone."""
    from . import refresh

    if store is None:
        return {}
    facts: dict = {"root": str(store.root)}
    events = loaded.tables.get("usage_events")
    if events is None or inputs.events is None:
        return facts
    parts = (events.notes.get("store") or {}).get("parts")
    if parts is not None:
        contributors = refresh.contributors_from_parts(parts)
        facts["event_files"] = {"reused": store.reused, "validated": store.validated}
    else:  # a warehouse table: months by their fingerprint, computed there
        contributors = refresh.warehouse_fingerprints(inputs.events.table())
    inputs.monthly_usage, months = refresh.monthly_from_store(store.root, inputs.events.table(), contributors,
                                                              config["usage"]["core_features"])
    facts["months"] = months
    if parts is not None:
        _say(f"[vga] incremental store: {len(store.reused)} of {len(parts)} event file(s) reused, "
             f"{len(store.validated)} validated; {len(months['reused'])} of {len(contributors)} month(s) reused, "
             f"{len(months['aggregated'])} aggregated", quiet)
    else:
        _say(f"[vga] incremental store: {len(months['reused'])} of {len(contributors)} month(s) of warehouse events "
             f"reused, {len(months['aggregated'])} aggregated", quiet)
    return facts


def _move_into_place(tmp: Path, final: Path) -> None:
    """Replace ``final`` with ``tmp`` so that a reader never sees half a run,
    nor a moment without a report: both folders are swapped in one atomic
    rename where the system can (Linux ``renameat2(RENAME_EXCHANGE)``).
    Elsewhere the old folder is first renamed aside; a run killed between
    the two renames leaves it there, and the next run puts it back."""
    if final.exists() and _exchange(tmp, final):
        shutil.rmtree(tmp, ignore_errors=True)  # now the old run; if killed here, the next run removes it
        return
    old = None
    if final.exists():
        old = final.with_name(f".{final.name}.old-{os.getpid()}")
        final.rename(old)
    tmp.rename(final)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two folders atomically; False when the system cannot."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    try:
        call = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    call.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    at_fdcwd, rename_exchange = -100, 2
    if call(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), str(b))


def _take_lock(out: Path, label: str) -> tuple[int, Path] | None:
    """Hold ``out/.<label>.lock`` for this run, or refuse at once when
    another live run holds it. ``flock`` is dropped by the kernel when its
    holder dies, so a killed run never blocks the next one. The file names
    its holder (pid, host, start) for the refusal message and is removed
    when the run ends. (No ``fcntl``, as on Windows: no lock.)"""
    try:
        import fcntl
    except ImportError:
        return None

    path = out / f".{label}.lock"
    while True:
        writable = True
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)  # the umask decides, as for the report
        except PermissionError:
            writable = False
            try:  # a killed run of another user left it: a lock needs no write access
                fd = os.open(path, os.O_RDONLY)
            except FileNotFoundError:
                raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path)) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _lock_holder(fd)
            os.close(fd)
            raise OutputError(
                f"another run of {label} is writing to {out} ({holder}); wait for it to finish, "
                f"or pass --out to write elsewhere") from None
        except OSError as exc:
            os.close(fd)
            if exc.errno in (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOTSUP):
                raise OutputError(f"cannot lock {path}: the file system of {out} does not support file locks; "
                                  f"pass --out with a local folder") from None
            raise
        # The run that held it may have removed the file just before letting
        # go: then this lock is on a file nobody else sees; take the new one.
        try:
            held = os.fstat(fd)
            now = os.stat(path)
            if (held.st_dev, held.st_ino) == (now.st_dev, now.st_ino):
                break
        except FileNotFoundError:
            pass
        os.close(fd)
    try:
        if writable:
            stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"pid {os.getpid()} on host {socket.gethostname()}, started {stamp}\n".encode(), 0)
    except BaseException:
        _release_lock((fd, path))
        raise
    return fd, path


def _lock_holder(fd: int) -> str:
    """Who holds a lock, as its holder wrote it (it may be writing it now)."""
    for _ in range(20):
        text = os.pread(fd, 300, 0).decode("utf-8", "replace").strip()
        if text:
            return text
        time.sleep(0.05)
    return "holder unknown"


def _release_lock(lock: tuple[int, Path]) -> None:
    fd, path = lock
    try:
        path.unlink()  # while still held: a run that opened it now sees it gone and takes a new one
    except OSError:
        pass
    os.close(fd)


def _clear_leftovers(out: Path, label: str, quiet: bool) -> None:
    """Tidy what earlier runs of the period left when they were killed or
    failed (this run holds the lock, so none of them is still running): put
    back a period folder a run was killed while replacing, then remove
    partial runs and old folders."""
    final = out / label
    olds = sorted(out.glob(f".{label}.old-*"), key=lambda p: p.stat().st_mtime)
    if olds and not final.exists():
        back = olds.pop()
        back.rename(final)
        _say(f"[vga] put back {final}: a run was stopped while replacing it", quiet)
    stale = olds + sorted(out.glob(f".{label}.*.partial"))
    for folder in stale:
        shutil.rmtree(folder, ignore_errors=True)
    if stale:
        _say(f"[vga] removed {len(stale)} folder(s) left by earlier stopped or failed runs of {label}: "
             + ", ".join(f.name for f in stale), quiet)
