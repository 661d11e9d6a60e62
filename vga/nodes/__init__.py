"""The nodes: every computation of a run, declared with what it needs and makes.

A node's ``compute(run, upstream)`` takes the run's :class:`Context` (the
:class:`~vga.inputs.Inputs`, the :class:`~vga.periods.Period`, the settings
and the period's coverage, assessed once) and the outputs of the nodes it
``needs`` (``upstream``, output name -> value), and returns its outputs:
output name -> data frame, dict, or None where the data does not allow it
(the reason is then in the node's JSON output). It reads no files and
writes none; :mod:`vga.run.pipeline` runs the nodes once, in dependency
order, and writes each output to ``results/<name>``.

Nodes never import nodes (helpers they share live in :mod:`vga.analysis`)
and present nothing: the chapters of the report (:mod:`vga.present`) read
their outputs and show them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from ..analysis.coverage import Coverage
from ..inputs import Inputs
from ..periods import Period
from ..settings import Settings


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
class Context:
    """What every node of a run reads: the data, the period, the settings
    (typed and frozen, :class:`~vga.settings.Settings`) and the period's
    coverage (:func:`vga.analysis.coverage.assess` at the as-of date)."""

    inputs: Inputs
    period: Period
    settings: Settings
    coverage: Coverage


@dataclass(frozen=True)
class Node:
    """One computation: ``key`` names it, ``title`` says it in progress and
    error lines, ``needs`` lists the nodes whose outputs it takes."""

    key: str
    title: str
    compute: Callable[[Context, dict], dict]
    outputs: tuple[Output, ...]
    needs: tuple[str, ...] = ()

    def output(self, name: str) -> Output:
        for o in self.outputs:
            if o.name == name:
                return o
        raise KeyError(f"node {self.key} has no output {name}")


def _registry() -> dict[str, Node]:
    """Every module of this package that defines ``NODE``, by key.

    A new node is one new module: nothing else needs to list it.
    """
    import importlib
    import pkgutil

    nodes = []
    for module in pkgutil.iter_modules(__path__):
        node = getattr(importlib.import_module(f"{__name__}.{module.name}"), "NODE", None)
        if isinstance(node, Node):
            nodes.append(node)
    return {n.key: n for n in sorted(nodes, key=lambda n: n.key)}


NODES: dict[str, Node] = _registry()


def output_owner(name: str) -> Node:
    """The node that writes ``results/<name>``."""
    for node in NODES.values():
        if any(o.name == name for o in node.outputs):
            return node
    raise KeyError(f"no node writes results/{name}")


def order(keys=None) -> list[Node]:
    """Nodes in dependency order: the given ones (default all) and what they need."""
    wanted: list[str] = []

    def visit(key):
        if key in wanted:
            return
        for need in NODES[key].needs:
            visit(need)
        wanted.append(key)

    for key in keys or NODES:
        visit(key)
    return [NODES[k] for k in wanted]
