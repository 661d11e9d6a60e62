"""Nodes of the analyst's own: computations a working folder adds to a run.

A module ``<working folder>/nodes/<name>.py`` that declares ``NODE =
Node(key, title, compute, outputs, needs)`` (:class:`vga.nodes.Node`) is
computed by ``vga run`` after the series' nodes, with the same context
(inputs, period, settings, coverage) and the outputs of the nodes it
``needs`` (the series' keys, or another of the analyst's); its outputs are
written to ``results/`` beside the series' own, by the same rules, where a
chapter of the analyst's own reads them (``open_run(run_dir).result(name)``).

The modules are the analyst's code: they are imported only from the
working folder, never from a data folder (:func:`vga.run.series.working_folder`).
"""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path

from ..errors import UsageError, VgaError
from ..nodes import NODES, Context, Node


def analyst_nodes(work: Path | None) -> list[Node]:
    """The nodes declared by ``<work>/nodes/*.py``, in the order they can be
    computed. A module that cannot be imported, declares no ``NODE``, reuses
    a key or an output name of the series, or needs a node nobody declares
    is refused (:class:`UsageError`, naming the file)."""
    folder = work / "nodes" if work is not None else None
    if folder is None or not folder.is_dir():
        return []
    found: dict[str, tuple[Node, Path]] = {}
    taken = {o.name for n in NODES.values() for o in n.outputs}
    for path in sorted(folder.glob("*.py")):
        if path.name.startswith("_"):
            continue
        spec = importlib.util.spec_from_file_location(f"vga_analyst_nodes.{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        try:
            spec.loader.exec_module(module)
        except Exception as exc:
            raise UsageError(f"{path} could not be imported ({type(exc).__name__}: {exc}); a node of your own is a "
                             "module declaring NODE = Node(key, title, compute, outputs, needs)") from None
        node = getattr(module, "NODE", None)
        if not isinstance(node, Node):
            raise UsageError(f"{path} declares no NODE = vga.nodes.Node(...); every module of nodes/ is a node of "
                             "your own (name a helper module _<name>.py to keep it out)")
        if node.key in NODES or node.key in found:
            raise UsageError(f"{path}: the node key {node.key!r} is taken; choose another")
        clash = [o.name for o in node.outputs if o.name in taken]
        if clash:
            raise UsageError(f"{path}: results/{clash[0]} is written by another node; name your outputs apart")
        taken |= {o.name for o in node.outputs}
        found[node.key] = (node, path)
    ordered: list[Node] = []

    def visit(key: str, trail: tuple[str, ...] = ()) -> None:
        if key in NODES or any(n.key == key for n in ordered):
            return
        if key in trail:
            raise UsageError(f"{found[key][1]}: the nodes of your own need each other in a circle ({' -> '.join(trail + (key,))})")
        if key not in found:
            raise UsageError(f"{found[trail[-1]][1]}: it needs {key!r}, which no node declares; the series' nodes are "
                             + ", ".join(NODES))
        for need in found[key][0].needs:
            visit(need, trail + (key,))
        ordered.append(found[key][0])

    for key in found:
        visit(key)
    return ordered


def compute_analyst_nodes(nodes: list[Node], run: Context, outputs: dict, progress=None) -> dict:
    """Each of ``nodes`` computed in turn on the run's context, with the
    outputs of what it needs (``outputs`` holds the series'); returns their
    outputs (name -> value) and adds them to ``outputs``."""
    made: dict = {}
    for node in nodes:
        t0 = time.perf_counter()
        upstream = {name: outputs[name] for name in _outputs_of(node.needs, nodes) if name in outputs}
        try:
            result = node.compute(run, upstream)
        except Exception as exc:
            raise VgaError(f"{node.title} ({node.key}, a node of your own) failed: {type(exc).__name__}: {exc}; "
                           "earlier reports are untouched (run with --debug for the traceback)") from exc
        missing = {o.name for o in node.outputs} - set(result or {})
        if missing:
            raise VgaError(f"{node.title} ({node.key}, a node of your own) did not return {sorted(missing)}, which "
                           "its NODE declares as outputs")
        made |= result
        outputs |= result
        if progress:
            progress(node, time.perf_counter() - t0)
    return made


def _outputs_of(keys, nodes: list[Node]) -> list[str]:
    mine = {n.key: n for n in nodes}
    return [o.name for key in keys for o in (NODES.get(key) or mine[key]).outputs]


def write_analyst_outputs(nodes: list[Node], made: dict, folder: Path) -> list[Path]:
    """Write the analyst's nodes' outputs to ``folder`` (``results/``) by the
    series' rules: CSV for a ``.csv`` name, JSON for ``.json``."""
    from .results import write_csv, write_json

    written = []
    for node in nodes:
        for out in node.outputs:
            value = made.get(out.name)
            if value is None:
                continue
            if out.is_csv:
                written.append(write_csv(value, folder / out.name))
            elif out.name.endswith(".json"):
                written.append(write_json(value, folder / out.name))
            else:
                raise VgaError(f"{node.key} (a node of your own): results/{out.name} must end in .csv or .json")
    return written
