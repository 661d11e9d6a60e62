"""What a notebook opens: its chapter's results, from a run or computed afresh.

Every notebook of the series starts with::

    view = open_chapter("quadrant_view", data_dir, period, config, run_dir, reports_dir)

Inside ``vga run`` (``run_dir`` given) every node was already computed once
and its results written: the notebook reads back the outputs its chapter
shows and presents them. Run on its own (no ``run_dir``), the notebook loads
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
from .settings import Settings


def shown_outputs(chapter: Chapter) -> list[str]:
    """Every output ``chapter`` shows: its node's, then the others it names."""
    return [o.name for o in NODES[chapter.node].outputs] + list(chapter.shows)


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


def open_chapter(chapter: str, data_dir: str = "", period: str = "", config: str = "", run_dir: str = "",
                 reports_dir: str = "") -> View:
    """Open ``chapter``'s results for a notebook (see the module docstring)."""
    from .run import pipeline

    known = chapters()
    if chapter not in known:
        raise KeyError(f"unknown chapter {chapter!r}; chapters: {', '.join(known)}")
    the_chapter = known[chapter]
    p = parse_period(period)
    data_dir = resolve_data_dir(data_dir)
    cfg = load_config(config or None, data_dir or None)
    settings = Settings.parse(cfg)
    from .present.blocks import set_currency

    set_currency(settings.report.currency)
    names = shown_outputs(the_chapter)
    results = Path(run_dir) / "results" if run_dir else None
    if results is not None and results.is_dir():
        return View(the_chapter, p, settings, {n: pipeline.read(results, n) for n in names}, "run")
    from .load import load_folder, previous_quadrants, to_inputs

    loaded = load_folder(data_dir, cfg)
    inputs = to_inputs(loaded, previous_quadrants(reports_dir, p.previous_label))
    keys = sorted({output_owner(n).key for n in names})
    outputs, _ = pipeline.compute(inputs, p, cfg, keys)
    return View(the_chapter, p, settings, {n: outputs.get(n) for n in names}, "computed")
