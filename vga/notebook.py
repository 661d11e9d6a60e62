"""What a notebook opens: its chapter's results, from a run or computed afresh.

Every notebook of the series starts with::

    view = open_chapter("quadrant_view", data_dir, period, config, run_dir, reports_dir)

Inside ``vga run`` (``run_dir`` given) every node was already computed once
and its results written: the notebook reads back the outputs its chapter
shows and presents them (:func:`vga.open_run`). A ``run_dir`` that holds no
run is an error naming it, never a silent recompute; the executed notebooks
of a run name its final folder, so they re-open from there. Run on its own (no ``run_dir``), the notebook loads
the data folder and computes the nodes its chapter shows, and the nodes
they need, with the same functions, and writes nothing: analysts re-run a
notebook on new data with plain papermill or in JupyterLab.

A relative ``data_dir`` (the notebooks' default is ``data/sample``) is found
from the current folder, else from the folder above it: the same default
works when papermill runs from the repository (or ``vga init`` folder) root
and when JupyterLab runs the notebook in ``notebooks/``.
"""

from __future__ import annotations

from pathlib import Path

from .config import load_config
from .nodes import NODES, output_owner
from .periods import parse_period
from .present import Chapter, View, chapters
from .run.opened import FinishedRun, open_run, shown_outputs
from .settings import Settings

__all__ = ["open_chapter", "open_run", "FinishedRun", "working_folder", "resolve_data_dir"]


def resolve_data_dir(data_dir: str, cwd: str | Path | None = None) -> str:
    """``data_dir`` as given when it is absolute or exists from ``cwd``;
    else the folder above's ``data_dir`` when that exists; else as given
    (the loader then names it as missing)."""
    if not data_dir or Path(data_dir).is_absolute():
        return data_dir
    here = Path(cwd or Path.cwd())
    for base in (here, here.parent):
        if (base / data_dir).is_dir():
            return str(base / data_dir)
    return data_dir


def working_folder(cwd: str | Path | None = None) -> Path:
    """The analyst's working folder seen from a notebook: the current folder,
    or the one above when the current one is its ``notebooks/`` (JupyterLab
    starts a kernel beside its notebook)."""
    here = Path(cwd or Path.cwd())
    if here.name == "notebooks" and not (here / "vga.toml").is_file() and (here.parent / "vga.toml").is_file():
        return here.parent
    return here


def _currency(settings: Settings) -> None:
    from .present.blocks import set_currency

    set_currency(settings.report.currency)


def open_chapter(chapter: str, data_dir: str = "", period: str = "", config: str = "", run_dir: str = "",
                 reports_dir: str = "") -> View:
    """Open ``chapter``'s results for a notebook (see the module docstring)."""
    from .run import pipeline

    known = chapters()
    if chapter not in known:
        raise KeyError(f"unknown chapter {chapter!r}; chapters: {', '.join(known)}")
    the_chapter = known[chapter]
    names = shown_outputs(the_chapter)
    if run_dir:
        # A run's results, or an error naming run_dir: never a silent recompute from the data.
        from .errors import UsageError

        try:
            run = open_run(run_dir)
        except UsageError as exc:
            raise UsageError(f"run_dir {run_dir}: {exc}; or leave run_dir empty to compute from data_dir") from None
        if period and parse_period(period).label != run.period.label:
            raise UsageError(f"run_dir {run_dir} holds the run of {run.period.label}, not of {period}; pass the "
                             "period's own run folder, or leave run_dir empty to compute from data_dir")
        if config:
            cfg = load_config(config)
        elif run.manifest.get("configuration"):  # a finished run: the settings it was made with
            cfg = run.manifest["configuration"]
        else:  # inside the run, before its manifest: the data folder's vga.toml, as the run found it
            cfg = load_config(None, resolve_data_dir(data_dir) or None, working_folder())
        view = run.chapter(chapter, cfg)
        _currency(view.settings)
        return view
    p = parse_period(period)
    data_dir = resolve_data_dir(data_dir)
    cfg = load_config(config or None, data_dir or None, working_folder())
    settings = Settings.parse(cfg)
    _currency(settings)
    from .load import load_folder, previous_quadrants, to_inputs

    loaded = load_folder(data_dir, cfg)
    inputs = to_inputs(loaded, previous_quadrants(reports_dir, p.previous_label))
    keys = sorted({output_owner(n).key for n in names})
    outputs, _ = pipeline.compute(inputs, p, cfg, keys)
    return View(the_chapter, p, settings, {n: outputs.get(n) for n in names}, "computed")
