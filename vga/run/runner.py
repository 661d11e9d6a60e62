"""Running a period: load once, compute every step once, present, report.

Only this package writes run folders. The flow (see ARCHITECTURE.md)::

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

import os
import shutil
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from ..analysis.coverage import assess
from ..config import config_notice, load_config, warehouse_url
from ..errors import OutputError, PartialPeriodError, UsageError, write_fault
from ..load import load_folder, previous_quadrants, to_inputs
from ..load.files import find_sources
from ..nodes import NODES
from ..nodes.data_gathering import not_given
from ..periods import parse_period
from ..present import chapters, missing_steps, report_order
from . import folder, pipeline
from .folder import STORE_DIR
from .manifest import write_manifest
from .progress import Progress, say, table_line
from .reuse import CACHE_DIR
from .series import (AnalystChapter, analyst_chapters, find_series, notebooks_folder, package_notebooks,
                     passed_over, working_folder)

WORK = "_work"
#: Notebooks executed at once (each in its own kernel); VGA_NOTEBOOK_WORKERS overrides.
NOTEBOOK_WORKERS = int(os.environ.get("VGA_NOTEBOOK_WORKERS", "2"))

__all__ = ["run_period", "STORE_DIR", "CACHE_DIR"]


@dataclass
class Record:
    """What a run has done so far: seconds per phase (``manifest.json``
    ``timings_seconds``), and what the manifest records of the store."""

    started: float = field(default_factory=time.time)
    timings: dict = field(default_factory=dict)
    incremental_store: dict = field(default_factory=dict)
    reused: dict = field(default_factory=lambda: {"steps": [], "notebooks": []})

    @contextmanager
    def timed(self, phase: str):
        """Time the block as ``phase``."""
        t0 = time.time()
        yield
        self.timings[phase] = round(time.time() - t0, 3)


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
    notebooks: str | Path | None = None,
    pdf: bool = False,
) -> Path:
    """Run the series for ``period`` and return the finished run folder.

    ``pdf`` also prints the report to ``report.pdf`` with Chromium or
    Chrome (:mod:`vga.run.pdf`); with none installed the run is refused
    before any data is read.

    Validated events and monthly usage are kept between runs in
    ``<out>/.vga-store`` (:mod:`vga.load.store`, :mod:`vga.run.refresh`): a
    refresh validates and aggregates only what changed. ``rebuild`` empties
    that store first (the figures are the same either way).

    Refusals that need no data come first: a bad period, configuration or
    notebooks folder, or a data folder that is not there (:class:`UsageError`)
    before the output folder is looked at; then the
    period's lock (another run of the period writing to ``out``, or an
    ``out`` that cannot be written: :class:`OutputError`, as is a write that
    fails later); then an existing period folder without ``force``
    (:class:`UsageError`). Then the data: unusable data raises
    :class:`DataError`; data that does not reach the period's as-of date,
    unless ``allow_partial``, :class:`~vga.errors.PartialPeriodError` (exit
    3). ``notebooks`` is a folder of the series' notebooks to use instead
    of the package's (``vga init``); without it, ``./notebooks`` is used when
    it holds any (:func:`vga.run.series.find_series`), and said. ``redact``
    replaces account and team names by stable pseudonyms
    everywhere in the run folder (:mod:`vga.run.redact`). A failing node or
    notebook raises :class:`VgaError`. In every failure, and when the run is
    interrupted or killed, existing reports are left as they were.
    """
    record = Record()
    p = parse_period(period)
    data_dir = Path(data_dir).resolve()
    out = Path(out).resolve()
    work = working_folder(notebooks, data_dir=data_dir)
    config = load_config(config_path, data_dir, work)
    series, local = find_series(notebooks, data_dir=data_dir)
    yours = analyst_chapters(notebooks_folder(work, notebooks))
    from .analyst import analyst_nodes

    own_nodes = analyst_nodes(work)  # refused before any data is read
    skipped = passed_over(None, data_dir) if notebooks is None else None
    browser = None
    if pdf:
        from .pdf import find_browser

        browser = find_browser()  # no browser, no run: said before anything is read
    if not data_dir.is_dir():
        find_sources(data_dir, config)  # says so, before the reports folder is touched
    lock = store_lock = None
    try:
        out.mkdir(parents=True, exist_ok=True)
        lock = folder.take_lock(out, p.label)
        folder.clear_leftovers(out, p.label, quiet)
        if rebuild:  # every node computed again, every notebook executed again
            from .reuse import CACHE_DIR

            shutil.rmtree(out / CACHE_DIR / p.label, ignore_errors=True)
        has_events = _has_events(data_dir, config, allow_outside)  # a data folder that is not there: named first
        final = out / p.label
        if final.exists() and not force:  # refused before any data is read
            raise UsageError(f"{final} already exists; pass --force to replace it, or --out to write elsewhere")
        store = None
        if has_events:
            store, store_lock = folder.open_store(out, rebuild, quiet)
        say(f"[vga] {config_notice(config, config_path)}", quiet)
        mine = (f", {len(yours)} of yours ({', '.join(c.path.name for c in yours)})" if yours else "")
        if own_nodes:
            say(f"[vga] nodes: {len(NODES)} of the series, {len(own_nodes)} of yours "
                f"({', '.join(n.key for n in own_nodes)}, from {work / 'nodes'})", quiet)
        if local or yours:
            say(f"[vga] notebooks: {len(series)} of the series{mine}; "
                + (f"{len(local)} of {len(series)} from {series[local[0]].parent} (your copy), "
                   + ("the rest from the package" if len(local) < len(series) else "none from the package")
                   if local else "the series' from the package"), quiet)
        elif skipped is not None:
            say(f"[vga] notebooks: all {len(series)} from the package; {skipped} lies inside the data folder, and "
                "notebooks that come with data are never run (pass --notebooks with a copy of your own)", quiet)
        _run_locked(data_dir, p, config, config_path, out, record, store, series, force=force, strict=strict, quiet=quiet,
                    debug=debug, redact=redact, allow_outside=allow_outside, allow_partial=allow_partial,
                    browser=browser, work=work, yours=yours, own_nodes=own_nodes)
        return final
    except OutputError:
        raise
    except Exception as exc:
        fault = write_fault(exc, out, after="earlier reports are untouched")
        if fault is None:
            raise
        raise fault from exc
    finally:
        folder.release_store(store_lock)
        if lock is not None:
            folder.release_lock(lock)


def _run_locked(data_dir: Path, p, config: dict, config_path, out: Path, record: Record, store, series: dict, *,
                force: bool,
                strict: bool, quiet: bool, debug: bool, redact: bool, allow_outside: bool, allow_partial: bool,
                browser: str | None = None, work: Path | None = None, yours: list[AnalystChapter] = (),
                own_nodes: list = ()) -> None:
    """The run proper, with the period's lock held: phases in a temporary
    folder, moved into place only when every one succeeded. ``work`` is the
    analyst's working folder (the kernels start there, with it on the import
    path); ``yours`` the chapters of the analyst's own."""
    from .kernels import KernelPool

    tmp = out / f".{p.label}.{os.getpid()}.partial"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()  # honours the umask: a shared report stays readable
    pool = bar = None
    try:
        for sub in ("notebooks", "results", "quarantine", WORK):
            (tmp / sub).mkdir()
        # Kernels start while the data loads: notebooks never wait for one.
        path = [work, *([work / "notebooks"] if (work / "notebooks").is_dir() else [])] if work else []
        # Kernels start while the data loads (a run that reuses notebooks leaves the spare ones idle).
        pool = KernelPool(NOTEBOOK_WORKERS, len(chapters()) + len(yours), tmp / WORK / "kernels.log",
                          work or package_notebooks(), path)
        with record.timed("load"):
            loaded = _load(data_dir, config, tmp, store, strict=strict, quiet=quiet, allow_outside=allow_outside)
        coverage = _coverage(loaded, p, config, quiet, allow_partial)
        with record.timed("monthly_usage"):
            inputs = to_inputs(loaded, previous_quadrants(out, p.previous_label))
            inputs, record.incremental_store = _refresh(store, loaded, inputs, config, quiet)
        loaded.write_quarantine(tmp / "quarantine")
        missing_tables = not_given(inputs)
        if missing_tables:
            say(f"[vga] {missing_tables[0].lower()}{missing_tables[1:]}", quiet)
        redact_key = b""
        if redact:
            inputs, config, redact_key = _redact(inputs, config, out, tmp, quiet)
        cache = _cache(loaded, config, p, coverage, out, redact_key)
        bar = Progress(len(NODES) + len(own_nodes) + len(chapters()) + len(yours) + 1, quiet)
        with record.timed("compute"):
            outputs, step_seconds = pipeline.compute(
                inputs, p, config, coverage=coverage, cache=cache,
                progress=lambda node, s: bar.advance(
                    f"{'reused' if cache is not None and node.key in cache.reused else 'computed'} "
                    f"{node.title.lower()} ({s:.1f} s)"))
        if cache is not None and cache.reused:
            bar.say(f"[vga] reused {len(cache.reused)} of {len(NODES)} steps' results: their data, code and every "
                    f"setting they read are unchanged (--rebuild computes all)")
        checks = outputs["summary.json"]["plausibility"]
        for warning in checks:
            bar.say(f"[vga] warning: {warning}")
        if own_nodes:
            from .analyst import compute_analyst_nodes, write_analyst_outputs

            with record.timed("analyst_nodes"):
                made = compute_analyst_nodes(
                    own_nodes, pipeline.context(inputs, p, config, coverage), outputs,
                    progress=lambda node, s: bar.advance(f"computed {node.title.lower()}, yours ({s:.1f} s)"))
        with record.timed("write_results"):
            pipeline.write(outputs, tmp / "results")
            if own_nodes:
                write_analyst_outputs(own_nodes, made, tmp / "results")
        record.timings["steps"] = step_seconds
        # The notebooks get the configuration the run used when it is the
        # user's own; one from the data folder each finds again (and trusts as little).
        mine = config.get("_source") in ("--config", "working folder")
        params = {"data_dir": str(data_dir), "period": p.label,
                  "config": str(Path(config["_file"]).resolve()) if mine else "", "run_dir": str(tmp),
                  "reports_dir": str(out)}
        kept, chapter_prints = _reusable_notebooks(cache, series, params, config, out / p.label, tmp, yours)
        if kept:
            bar.advance(f"reused {len(kept)} of {len(series)} chapters' executed notebooks, nothing they show changed: "
                        + ", ".join(kept), parts=len(kept))
        with record.timed("notebooks"):
            record.timings |= _notebooks(params, {s: v for s, v in series.items() if s not in kept}, tmp, pool, bar,
                                         debug, yours)
        with record.timed("report"):
            _report(p, config, tmp, coverage.warnings() + checks + ([missing_tables] if missing_tables else []),
                    yours)
        bar.advance("report written")
        _point_at(tmp / "notebooks", tmp, out / p.label)
        if browser:
            from .pdf import print_pdf

            with record.timed("pdf"):
                pages = print_pdf(tmp / "report.html", tmp / "report.pdf", browser)
            bar.say(f"[vga] report.pdf printed: {pages} A4 pages")
        bar.close()
        record.timings["total"] = round(time.time() - record.started, 3)
        if cache is not None:
            record.reused = {"steps": sorted(cache.reused), "notebooks": sorted(kept)}
            _remember_notebooks(tmp / "notebooks", chapter_prints)
        write_manifest(tmp / "manifest.json", period=p, reused=record.reused,
                       parameters={k: v for k, v in params.items() if k != "run_dir"}
                       | {"strict": strict, "force": force, "redact": redact},
                       inputs=loaded.manifest(), coverage=coverage.as_dict(), config=config, timings=record.timings,
                       incremental_store=record.incremental_store)
        pool.close()
        pool = None
        shutil.rmtree(tmp / WORK)
        folder.move_into_place(tmp, out / p.label)
    except BaseException as exc:
        if bar is not None:
            bar.close()
        if pool is not None:
            pool.close()
        _discard(tmp, out, exc)
        raise
    say(f"[vga] done in {time.time() - record.started:.1f} s", quiet)


def _load(data_dir: Path, config: dict, tmp: Path, store, *, strict: bool, quiet: bool, allow_outside: bool):
    """Every table of the data folder (or the warehouse), validated."""
    say(f"[vga] loading {data_dir}", quiet)
    return load_folder(data_dir, config, strict=strict, work_dir=tmp / WORK,
                       progress=lambda load: say(table_line(load), quiet), store=store, allow_outside=allow_outside)


def _coverage(loaded, p, config: dict, quiet: bool, allow_partial: bool):
    """The period's coverage, assessed once for every node; data that does
    not reach the as-of date stops the run unless ``allow_partial``."""
    coverage = assess(loaded.sources(), p.as_of, config["analysis"])
    if not coverage.covers_as_of and not allow_partial:
        raise PartialPeriodError(
            f"the data does not cover {p.label}: {coverage.reason} Or pass --allow-partial for a report that says "
            "what it cannot show")
    for warning in coverage.warnings():
        say(f"[vga] warning: {warning}", quiet)
    return coverage


def _refresh(store, loaded, inputs, config: dict, quiet: bool):
    from .refresh import refresh_monthly

    return refresh_monthly(store, loaded, inputs, config["usage"]["core_features"], quiet)


def _redact(inputs, config: dict, out: Path, tmp: Path, quiet: bool):
    """Pseudonyms for account, team and partner names before any node sees them."""
    from .redact import redact_config, redact_folder, redact_inputs, redaction_key

    key, said = redaction_key(out)
    say(f"[vga] {said}", quiet)
    redact_folder(tmp / "quarantine", key, config)
    return redact_inputs(inputs, key), redact_config(config, key), key


def _notebooks(params: dict, series: dict, tmp: Path, pool, bar: Progress, debug: bool,
               yours: list[AnalystChapter] = ()) -> dict:
    """Every chapter's notebook executed (two at a time), the analyst's own
    chapters with them; seconds per notebook."""
    from .kernels import execute

    titles = {c.notebook: c.title for c in chapters().values() if c.notebook in series} | {
        c.notebook: c.title for c in yours}
    sources = dict(series) | {c.notebook: c.path for c in yours}
    jobs = [(stem, sources[stem], tmp / "notebooks" / f"{stem}.ipynb") for stem in titles]
    done = []

    def progress(name, seconds):
        done.append(name)
        bar.advance(f"[{len(done)}/{len(jobs)}] presented {titles[name].lower()} ({seconds:.1f} s)")

    try:
        return execute(jobs, params, pool, workers=NOTEBOOK_WORKERS, progress=progress,
                       yours={c.notebook for c in yours})
    except BaseException:
        if debug:
            print((tmp / WORK / "kernels.log").read_text(errors="replace"), flush=True)
        raise


def _report(p, config: dict, tmp: Path, warnings: list[str], yours: list[AnalystChapter] = ()) -> None:
    """``report.html`` from the executed notebooks, in the chapters' order,
    the analyst's own chapters in their places (:func:`reading_order`)."""
    from .report import ReportError, build_report

    try:
        build_report(
            [(title, tmp / "notebooks" / f"{stem}.ipynb") for title, stem, _ in reading_order(yours)],
            tmp / "report.html",
            title=f"Value gap analysis: {p.label}",
            subtitle=f"As of {p.as_of.isoformat()} · retention window {p.window_start.isoformat()} to "
                     f"{p.as_of.isoformat()} · amounts in "
                     + (config["report"]["currency"].strip() or "the data's currency"),
            warnings=warnings,
            missing=missing_steps(),
            appendix=[c.title for c in report_order() if c.appendix],
            yours=[c.title for c in yours],
        )
    except (ReportError, OSError, KeyboardInterrupt):
        raise
    except Exception as exc:  # any other failure of the last stage: one line, nothing left behind
        raise ReportError(f"the report could not be written ({type(exc).__name__}: "
                          f"{str(exc).strip().splitlines()[0] if str(exc).strip() else 'no detail'}); "
                          "earlier reports are untouched") from exc


def _cache(loaded, config: dict, p, coverage, out: Path, redact_key: bytes):
    """The period's node cache (:mod:`vga.run.reuse`); None where the events
    live in a warehouse (no cheap fingerprint of them)."""
    if warehouse_url(config):
        return None
    from .reuse import CACHE_DIR, NodeCache, data_fingerprint

    data = data_fingerprint(loaded.manifest(), config, p.label, coverage.as_dict(),
                            out / p.previous_label / "results" / "quadrants.csv",
                            redact_key.hex() if isinstance(redact_key, bytes) else str(redact_key))
    return NodeCache(out / CACHE_DIR / p.label, data)


def _reusable_notebooks(cache, series: dict, params: dict, config: dict, final: Path, tmp: Path,
                        yours) -> tuple[list[str], dict]:
    """The chapters whose executed notebook the period's last run left and
    nothing it shows has changed since (copied into this run), and every
    chapter's fingerprint (:func:`vga.run.reuse.chapter_fingerprint`). A
    notebook with cells of the analyst's own is always executed again."""
    import json

    from ..nodes import output_owner
    from ..settings import Settings
    from .opened import shown_outputs
    from .reuse import chapter_fingerprint
    from .series import is_analysts

    if cache is None:
        return [], {}
    settings = Settings.parse(config)
    prints, kept = {}, []
    for chapter in chapters().values():
        stem = chapter.notebook
        nodes = sorted({output_owner(n).key for n in shown_outputs(chapter)})
        if any(key not in cache.fingerprints for key in nodes):
            continue
        prints[stem] = chapter_fingerprint(series[stem], {k: cache.fingerprints[k] for k in nodes}, settings,
                                           chapter.reads, params)
        executed = final / "notebooks" / f"{stem}.ipynb"
        try:
            before = json.loads(executed.read_text(encoding="utf-8"))["metadata"]["vga"]["fingerprint"]
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if before != prints[stem]:
            continue
        import nbformat

        if any(is_analysts(c) for c in nbformat.read(series[stem], as_version=4).cells):
            continue
        shutil.copyfile(executed, tmp / "notebooks" / f"{stem}.ipynb")
        kept.append(stem)
    return kept, prints


def _remember_notebooks(notebooks: Path, prints: dict) -> None:
    """Each executed notebook carries its chapter's fingerprint
    (``metadata.vga.fingerprint``), for the next run of the period to compare."""
    import nbformat

    for stem, fingerprint in prints.items():
        path = notebooks / f"{stem}.ipynb"
        if path.is_file():
            book = nbformat.read(path, as_version=4)
            book.metadata.setdefault("vga", {})["fingerprint"] = fingerprint
            nbformat.write(book, path)


def reading_order(yours: list[AnalystChapter] = ()) -> list[tuple[str, str, bool]]:
    """(title, notebook stem, the analyst's?) of every chapter as the report
    shows them: the series' in :func:`~vga.present.report_order`, and each
    chapter of the analyst's own after the story's chapter of the same or
    the next lower step number (the one leading the report, the summary,
    aside); one numbered past the series' steps closes the story, before
    the appendix."""
    order = [(c.title, c.notebook, False, c) for c in report_order()]
    story = [c for c in report_order() if not c.leads and not c.appendix]
    last = max((c.number for c in chapters().values()), default=0)
    for mine in yours:
        before = [c for c in story if c.number <= mine.number]
        if mine.number > last or not story:
            anchor = next((i for i, o in enumerate(order) if o[3] is not None and o[3].appendix), len(order))
            while anchor > 0 and order[anchor - 1][3] is None and order[anchor - 1][1] > mine.notebook:
                anchor -= 1
        elif before:
            after = max(before, key=lambda c: (c.number, c.notebook))
            anchor = next(i for i, o in enumerate(order) if o[3] is after) + 1
            while anchor < len(order) and order[anchor][3] is None and order[anchor][1] < mine.notebook:
                anchor += 1
        else:  # before every chapter of the story: first after the summary
            anchor = next((i for i, o in enumerate(order) if o[3] is not None and o[3].leads), -1) + 1
        order.insert(anchor, (mine.title, mine.notebook, True, None))
    return [(title, stem, is_yours) for title, stem, is_yours, _ in order]


def _point_at(notebooks: Path, tmp: Path, final: Path) -> None:
    """The executed notebooks name the run folder they will be read from
    (``run_dir``), not the temporary one they ran in: re-opened later, they
    read this run's results."""
    import json

    old, new = json.dumps(str(tmp))[1:-1], json.dumps(str(final))[1:-1]
    for path in notebooks.glob("*.ipynb"):
        text = path.read_text(encoding="utf-8")
        if old in text:
            path.write_text(text.replace(old, new), encoding="utf-8")


def _discard(tmp: Path, out: Path, exc: BaseException) -> None:
    """What a failed run leaves: accepted events (with user ids) never
    outlive the run; executed notebooks of a failed run are kept to read
    what went wrong, but not those of an interrupted run, of one that could
    not write, or of a report refused at the last stage."""
    from .report import ReportError

    shutil.rmtree(tmp / WORK, ignore_errors=True)
    keep = isinstance(exc, Exception) and not isinstance(exc, ReportError) and write_fault(exc, out) is None
    if tmp.exists() and not (keep and any((tmp / "notebooks").glob("*.ipynb"))):
        shutil.rmtree(tmp, ignore_errors=True)


def _has_events(data_dir: Path, config: dict, allow_outside: bool = False) -> bool:
    """Whether the run has product events (a data folder's or a warehouse's): only then is there a store."""
    return "usage_events" in find_sources(data_dir, config, allow_outside) or bool(warehouse_url(config))
