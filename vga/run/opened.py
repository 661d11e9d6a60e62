"""A finished run, opened in Python: ``vga.open_run("reports/2026Q3")``.

One loader for everything a run wrote, for an analyst's notebook, a chapter
of their own or a script: the named figures of ``results/figures.csv``
(the registry the report's sentences cite), every output of ``results/``
read back value for value (:func:`vga.run.pipeline.read`), the chapters'
views as the notebooks present them, the manifest and the quarantine.
Nothing is recomputed: a folder that holds no finished run is an error
naming it, never a silent run on the data.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..errors import UsageError
from ..periods import Period, parse_period
from ..nodes import NODES
from ..present import Chapter, View, chapters


def shown_outputs(chapter: Chapter) -> list[str]:
    """Every output ``chapter`` shows: its node's, then the others it names."""
    return [o.name for o in NODES[chapter.node].outputs] + list(chapter.shows)


@dataclass(frozen=True)
class FinishedRun:
    """A run folder (``reports/<period>``) and what it holds.

    ``folder`` is the run folder; ``period`` the period it was run for;
    ``manifest`` its ``manifest.json`` (what it was made from, settings,
    versions, timings)."""

    folder: Path
    period: Period
    manifest: dict = field(repr=False)

    @property
    def results_folder(self) -> Path:
        return self.folder / "results"

    def names(self) -> list[str]:
        """The files of ``results/`` (``"quadrants.csv"``, ``"summary.json"``...), sorted."""
        return sorted(p.name for p in self.results_folder.iterdir() if p.is_file())

    def result(self, name: str):
        """One output of ``results/`` as the run wrote it: a data frame for a
        CSV (types as declared by its node), a dict for JSON, a dict of
        frames for a workbook. A name the run did not write is a KeyError
        listing those it did."""
        from ..nodes import output_owner
        from . import pipeline
        from .results import read_csv, read_json

        path = self.results_folder / name
        if not path.is_file():
            raise KeyError(f"{self.folder} has no results/{name}; it has {', '.join(self.names())}")
        try:
            output_owner(name)
        except KeyError:  # written by a node of the analyst's own: typed by its content
            return read_csv(path) if name.endswith(".csv") else read_json(path)
        return pipeline.read(self.results_folder, name)

    def figures(self) -> pd.DataFrame:
        """The named figures (``results/figures.csv``): name, label, value,
        unit (``share`` for a fraction, ``accounts``, ``money``...),
        population and window; empty for a run made before the registry."""
        from .results import read_csv

        path = self.results_folder / "figures.csv"
        if not path.is_file():
            return pd.DataFrame(columns=["name", "label", "value", "unit", "population", "window"])
        return read_csv(path, {"name": "str", "label": "str", "value": "float", "unit": "str",
                               "population": "str", "window": "str"})

    def figure(self, name: str) -> float:
        """One named figure's value (a share as a fraction: 0.85 for 85%)."""
        figures = self.figures()
        row = figures[figures["name"] == name]
        if row.empty:
            raise KeyError(f"no figure {name!r} in {self.results_folder / 'figures.csv'}; the figures are "
                           f"{', '.join(figures['name'])}")
        return float(row["value"].iloc[0])

    def chapter(self, key: str, settings=None) -> View:
        """A chapter's view, as its notebook presents it (``show.<block>(view)``):
        the outputs the chapter shows, with the settings the run was made
        with (``settings``, a configuration mapping or
        :class:`~vga.settings.Settings`, overrides them)."""
        from ..config import load_config
        from . import pipeline

        known = chapters()
        if key not in known:
            raise KeyError(f"unknown chapter {key!r}; chapters: {', '.join(known)}")
        if settings is None:
            settings = self.manifest.get("configuration") or load_config()
        return View(known[key], self.period, settings,
                    {n: pipeline.read(self.results_folder, n) for n in shown_outputs(known[key])}, "run")

    def quarantine(self) -> pd.DataFrame:
        """The rows the run set aside, with their reasons (``quarantine/``), one frame."""
        frames = [pd.read_csv(p, dtype=str, keep_default_na=False).assign(file=p.name)
                  for p in sorted((self.folder / "quarantine").glob("*.csv"))]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def open_run(path: str | Path) -> FinishedRun:
    """The finished run at ``path`` (a run folder: ``reports/2026Q3``).

    Raises :class:`~vga.errors.UsageError` naming ``path`` when it is not
    there, or holds no run's results (``results/summary.json``), with the
    way to make one. Inside a run (an analyst's chapter reading
    ``run_dir``) the manifest is not written yet: ``manifest`` is then empty."""
    folder = Path(path)
    if not str(path):
        raise UsageError("no run folder given: pass the folder of a finished run, such as reports/2026Q3 "
                         "(vga run --data DIR --period P writes one)")
    if not folder.is_dir():
        raise UsageError(f"run folder {folder} does not exist; pass the folder of a finished run, such as "
                         "reports/2026Q3 (vga run --data DIR --period P writes one)")
    results = folder / "results"
    summary = results / "summary.json"
    if not results.is_dir() or not summary.is_file():
        raise UsageError(f"{folder} holds no run (no results/summary.json); pass a period's folder of a reports "
                         "folder, such as reports/2026Q3")
    # A run's notebooks open it before its manifest is written (it is written last).
    manifest = folder / "manifest.json"
    data = json.loads(manifest.read_text(encoding="utf-8")) if manifest.is_file() else {}
    period = json.loads(summary.read_text(encoding="utf-8"))["period"]
    return FinishedRun(folder.resolve(), parse_period(period), data)

__all__ = ["open_run", "FinishedRun"]
