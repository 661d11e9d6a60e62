"""Running the nodes once, in dependency order, and keeping their results.

:func:`compute` runs the nodes a run (or one notebook) needs, each exactly
once, passing each node the run's :class:`~vga.nodes.Context` and the
outputs of the nodes it needs; independent nodes run side by side. :func:`write` puts every output in ``results/`` by the
rules of the outputs spec; :func:`read` gets one back, value for value.
"""

from __future__ import annotations

import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from pathlib import Path



from .results import read_csv, read_json, write_csv, write_json
from ..spreadsheet import read_workbook, write_workbook
from ..analysis.coverage import Coverage, assess
from ..inputs import Inputs
from ..nodes import NODES, Context, Node, order
from ..periods import Period
from ..settings import Settings


def context(inputs: Inputs, period: Period, config: dict, coverage: Coverage | None = None) -> Context:
    """The run's context: the configuration parsed into :class:`~vga.settings.Settings`
    once, and the period's coverage, assessed here unless given."""
    settings = Settings.parse(config)
    if coverage is None:
        coverage = assess(inputs.sources, period.as_of, settings.analysis)
    return Context(inputs, period, settings, coverage)


def compute(inputs: Inputs, period: Period, config: dict, keys=None, *, coverage: Coverage | None = None,
            progress=None, workers: int = 2, cache=None) -> tuple[dict, dict]:
    """Run the nodes ``keys`` (default: all) and those they need.

    Returns ``(outputs, seconds)``: output name -> value, and node key ->
    seconds it took. ``progress(node, seconds)`` is called as each finishes.
    With ``cache`` (a :class:`vga.run.reuse.NodeCache`), a node whose kept
    trace still holds is taken from it instead of computed, and every node
    computed is kept there; ``cache.reused`` and ``cache.computed`` say
    which was which, and ``cache.fingerprints`` holds each node's.
    """
    run = context(inputs, period, config, coverage)
    fingerprints: dict[str, str] = {}
    if cache is not None:
        cache.fingerprints = fingerprints
    todo = _unblocking_first(order(keys))
    if inputs.events is not None and inputs.events.expression is not None:
        from ..engine import shared_safely

        if not shared_safely(inputs.events.expression):
            # One session of a warehouse whose driver vga has not tested from
            # several threads: nodes that read events run in turn.
            workers = 1
    outputs: dict = {}
    seconds: dict = {}
    done: set[str] = set()

    def one(node: Node):
        t0 = time.perf_counter()
        upstream = {o.name: outputs[o.name] for need in node.needs for o in NODES[need].outputs}
        reads = None
        if cache is not None:
            needs = {need: fingerprints[need] for need in node.needs}
            kept = cache.lookup(node, run.settings, needs)
            if kept is not None:
                fingerprints[node.key] = kept[0]
                cache.reused.append(node.key)
                return node, kept[1], time.perf_counter() - t0
            from .reuse import recording_settings

            settings, reads = recording_settings(run.settings)
            node_run = Context(run.inputs, run.period, settings, run.coverage)
        else:
            node_run = run
        try:
            result = node.compute(node_run, upstream)
        except Exception as exc:  # name the node: the run stops here, earlier reports untouched
            from ..errors import VgaError

            raise VgaError(f"{node.title} ({node.key}) failed: {type(exc).__name__}: {exc}; earlier reports "
                           "are untouched (run with --debug for the traceback)") from exc
        missing = {o.name for o in node.outputs} - set(result)
        if missing:
            raise RuntimeError(f"node {node.key} did not return {sorted(missing)}")
        if cache is not None:
            fingerprints[node.key] = cache.keep(node, reads, needs, result)
            cache.computed.append(node.key)
        return node, result, time.perf_counter() - t0

    with ThreadPoolExecutor(max_workers=workers) as pool:
        running = {}
        while len(done) < len(todo):
            for node in todo:
                if node.key not in done and node.key not in running and all(n in done for n in node.needs):
                    running[node.key] = pool.submit(one, node)
            finished, _ = wait(running.values(), return_when=FIRST_COMPLETED)
            for future in finished:
                node, result, took = future.result()
                outputs.update(result)
                seconds[node.key] = round(took, 3)
                done.add(node.key)
                del running[node.key]
                if progress:
                    progress(node, took)
    return outputs, seconds


def _unblocking_first(nodes: list[Node]) -> list[Node]:
    """``nodes`` with those more nodes wait on first (by how many depend on
    them, directly or not), so that two workers are rarely left with one
    long chain; otherwise by key."""
    keys = {n.key for n in nodes}
    waiting: dict[str, set[str]] = {k: set() for k in keys}

    def mark(key: str, on: str) -> None:
        for need in NODES[on].needs:
            if need in keys and key not in waiting[need]:
                waiting[need].add(key)
                mark(key, need)

    for node in nodes:
        mark(node.key, node.key)
    return sorted(nodes, key=lambda n: (-len(waiting[n.key]), n.key))


def write(outputs: dict, folder: Path, keys=None) -> list[Path]:
    """Write each output of the nodes ``keys`` (default all) that has a value."""
    written = []
    for node in order(keys):
        written += write_node(node, outputs, folder)
    return written


def write_node(node: Node, outputs: dict, folder: Path) -> list[Path]:
    """Write each of ``node``'s outputs that has a value to ``folder``."""
    written = []
    for out in node.outputs:
        value = outputs.get(out.name)
        if value is None:
            continue
        path = Path(folder) / out.name
        if out.is_workbook:
            written.append(write_workbook(value, path))
        elif out.is_csv:
            written.append(write_csv(value, path))  # formula-safe, like every CSV (vga.run.results)
        else:
            written.append(write_json(value, path))
    return written


def read(folder: Path, name: str):
    """One output back from ``folder`` (None when its node wrote none)."""
    from ..nodes import output_owner

    out = output_owner(name).output(name)
    path = Path(folder) / name
    if not path.is_file():
        return None
    if out.is_workbook:
        return read_workbook(path)
    return read_csv(path, out.columns) if out.is_csv else read_json(path)


__all__ = ["compute", "context", "write", "write_node", "read"]
