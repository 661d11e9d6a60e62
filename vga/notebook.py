"""What a notebook opens: its step's results, from a run or computed afresh.

Every notebook of the series starts with::

    view = open_step("quadrant_view", data_dir, period, config, run_dir, reports_dir)

Inside ``vga run`` (``run_dir`` given) the step was already computed once
and its results written: the notebook reads them back and presents them.
Run on its own (no ``run_dir``), the notebook loads the data folder and
computes its step, and the steps it needs, with the same functions, and
writes nothing: analysts re-run a notebook on new data with plain papermill
or in JupyterLab.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .config import load_config
from .periods import Period, parse_period
from .steps import STEPS, Step, output_owner


@dataclass
class View:
    """One step's results, ready to present."""

    step: Step
    period: Period
    settings: dict  # the configuration sections the step reads (and "analysis")
    outputs: dict = field(repr=False)
    origin: str  # "run" (read from results/) or "computed"

    def __getitem__(self, name: str):
        return self.outputs[name]

    def get(self, name: str, default=None):
        return self.outputs.get(name, default)


def open_step(step: str, data_dir: str = "", period: str = "", config: str = "", run_dir: str = "",
              reports_dir: str = "") -> View:
    """Open ``step``'s results for a notebook (see the module docstring)."""
    from . import pipeline

    if step not in STEPS:
        raise KeyError(f"unknown step {step!r}; steps: {', '.join(STEPS)}")
    the_step = STEPS[step]
    p = parse_period(period)
    cfg = load_config(config or None, data_dir or None)
    from .present.blocks import set_currency

    set_currency(cfg["report"]["currency"])
    settings = pipeline.step_settings(the_step, cfg) | {"analysis": cfg["analysis"]}
    names = [o.name for o in the_step.outputs] + list(the_step.shows)
    results = Path(run_dir) / "results" if run_dir else None
    if results is not None and results.is_dir():
        return View(the_step, p, settings, {n: pipeline.read(results, n) for n in names}, "run")
    from .load import load_folder, previous_quadrants, to_inputs

    loaded = load_folder(data_dir, cfg)
    inputs = to_inputs(loaded, previous_quadrants(reports_dir, p.previous_label))
    keys = [step] + [output_owner(n).key for n in the_step.shows]
    outputs, _ = pipeline.compute(inputs, p, cfg, keys)
    return View(the_step, p, settings, {n: outputs.get(n) for n in names}, "computed")
