"""The VGA steps: one computation each, declared with what it needs and makes.

A step's ``compute(inputs, period, settings, upstream)`` takes the run's
:class:`~vga.inputs.Inputs`, the :class:`~vga.periods.Period`, its own
configuration sections (``settings``, a dict of section name -> section)
and the outputs of the steps it needs (``upstream``, output name -> value),
and returns its outputs: output name -> data frame, dict, or None where the
data does not allow it (the reason is then in the step's JSON output). It
reads no files and writes none; :mod:`vga.pipeline` runs the steps once, in
dependency order, and writes each output to ``results/<name>``.

Steps do not present anything: each numbered notebook reads its step's
results (:mod:`vga.notebook`) and presents them (:mod:`vga.present`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable


@dataclass(frozen=True)
class Output:
    """One file of ``results/``.

    ``columns`` declares the CSV's known columns and their types (``str``,
    ``int``, ``float``, ``bool``, ``date``) so that reading it back gives the
    values that were written, exactly; further columns are typed by their
    content. ``optional``: the step may return None (nothing is written).
    """

    name: str
    description: str
    columns: dict[str, str] = field(default_factory=dict)
    optional: bool = False

    @property
    def is_csv(self) -> bool:
        return self.name.endswith(".csv")

    @property
    def is_workbook(self) -> bool:
        return self.name.endswith(".xlsx")


@dataclass(frozen=True)
class Step:
    key: str
    number: int
    title: str
    notebook: str  # stem of notebooks/<notebook>.ipynb that presents it; "" when none
    compute: Callable
    outputs: tuple[Output, ...]
    needs: tuple[str, ...] = ()  # keys of steps whose outputs it takes
    settings: tuple[str, ...] = ("analysis",)  # configuration sections it reads
    shows: tuple[str, ...] = ()  # outputs of other steps its notebook presents too

    def output(self, name: str) -> Output:
        for o in self.outputs:
            if o.name == name:
                return o
        raise KeyError(f"step {self.key} has no output {name}")


def _registry() -> dict[str, Step]:
    """Every module of this package that defines ``STEP``, in step-number order.

    A new step is one new module: nothing else needs to list it.
    """
    import importlib
    import pkgutil

    steps = []
    for module in pkgutil.iter_modules(__path__):
        step = getattr(importlib.import_module(f"{__name__}.{module.name}"), "STEP", None)
        if isinstance(step, Step):
            steps.append(step)
    steps.sort(key=lambda s: (s.number, s.key))
    return {s.key: s for s in steps}


STEPS: dict[str, Step] = _registry()


def output_owner(name: str) -> Step:
    """The step that writes ``results/<name>``."""
    for step in STEPS.values():
        if any(o.name == name for o in step.outputs):
            return step
    raise KeyError(f"no step writes results/{name}")


def order(keys=None) -> list[Step]:
    """Steps in dependency order: the given ones (default all) and what they need."""
    wanted: list[str] = []

    def visit(key):
        if key in wanted:
            return
        for need in STEPS[key].needs:
            visit(need)
        wanted.append(key)

    for key in keys or STEPS:
        visit(key)
    return [STEPS[k] for k in wanted]
