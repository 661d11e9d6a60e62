"""Running the steps once, in dependency order, and keeping their results.

:func:`compute` runs the steps a run (or one notebook) needs, each exactly
once, passing each step the outputs of the steps it needs; independent steps
run side by side. :func:`write` puts every output in ``results/`` by the
rules of the outputs spec; :func:`read` gets one back, value for value.
"""

from __future__ import annotations

import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from pathlib import Path



from .results import read_csv, read_json, write_csv, write_json
from .spreadsheet import read_workbook, write_workbook
from .steps import STEPS, Step, order


def step_settings(step: Step, config: dict) -> dict:
    """The configuration sections a step reads."""
    return {section: config[section] for section in step.settings}


def compute(inputs, period, config: dict, keys=None, *, progress=None, workers: int = 2) -> tuple[dict, dict]:
    """Run the steps ``keys`` (default: all) and those they need.

    Returns ``(outputs, seconds)``: output name -> value, and step key ->
    seconds it took. ``progress(step, seconds)`` is called as each finishes.
    """
    todo = order(keys)
    if inputs.events is not None and inputs.events.expression is not None:
        # A warehouse connection is one session: steps that read events from it
        # would wait on each other's cursors (a hang on PostgreSQL), so run in turn.
        workers = 1
    outputs: dict = {}
    seconds: dict = {}
    done: set[str] = set()

    def run(step: Step):
        t0 = time.perf_counter()
        upstream = {o.name: outputs[o.name] for need in step.needs for o in STEPS[need].outputs}
        try:
            result = step.compute(inputs, period, step_settings(step, config), upstream)
        except Exception as exc:  # name the step: the run stops here, earlier reports untouched
            from .errors import VgaError

            raise VgaError(f"step {step.number} ({step.title}) failed: {type(exc).__name__}: {exc}; earlier reports "
                           "are untouched (run with --debug for the traceback)") from exc
        missing = {o.name for o in step.outputs} - set(result)
        if missing:
            raise RuntimeError(f"step {step.key} did not return {sorted(missing)}")
        return step, result, time.perf_counter() - t0

    with ThreadPoolExecutor(max_workers=workers) as pool:
        running = {}
        while len(done) < len(todo):
            for step in todo:
                if step.key not in done and step.key not in running and all(n in done for n in step.needs):
                    running[step.key] = pool.submit(run, step)
            finished, _ = wait(running.values(), return_when=FIRST_COMPLETED)
            for future in finished:
                step, result, took = future.result()
                outputs.update(result)
                seconds[step.key] = round(took, 3)
                done.add(step.key)
                del running[step.key]
                if progress:
                    progress(step, took)
    return outputs, seconds


def write(outputs: dict, folder: Path, keys=None) -> list[Path]:
    """Write each output of the steps ``keys`` (default all) that has a value."""
    written = []
    for step in order(keys):
        for out in step.outputs:
            value = outputs.get(out.name)
            if value is None:
                continue
            path = folder / out.name
            if out.is_workbook:
                written.append(write_workbook(value, path))
            elif out.is_csv:
                written.append(write_csv(value, path))  # formula-safe, like every CSV (vga.results)
            else:
                written.append(write_json(value, path))
    return written


def read(folder: Path, name: str):
    """One output back from ``folder`` (None when the step wrote none)."""
    from .steps import output_owner

    out = output_owner(name).output(name)
    path = Path(folder) / name
    if not path.is_file():
        return None
    if out.is_workbook:
        return read_workbook(path)
    return read_csv(path, out.columns) if out.is_csv else read_json(path)


__all__ = ["compute", "write", "read", "step_settings"]
