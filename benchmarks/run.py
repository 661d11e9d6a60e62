#!/usr/bin/env python3
"""Benchmark: a whole `vga run` on the sample, as ratios to its own floor.

In the same session, on one sample folder (written here), it measures:

- floor:       loading and computing every step in one process, no notebooks
               (what no run can beat);
- sequential:  `vga run` with one notebook at a time (VGA_NOTEBOOK_WORKERS=1);
- run:         `vga run` as shipped (warm kernels, two notebooks at a time).

It prints seconds and the ratios run/floor and run/sequential, then each
notebook's seconds in both (from the runs' manifests). Each figure is the
best of ``--repeat`` runs, each in a fresh process.

    .venv/bin/python benchmarks/run.py                 # 1,500 accounts
    .venv/bin/python benchmarks/run.py --accounts 5000 --repeat 3
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FLOOR = """
import sys
from vga.config import load_config
from vga.load import load_folder, to_inputs
from vga.periods import parse_period
from vga.run import pipeline
config = load_config(None, sys.argv[1])
inputs = to_inputs(load_folder(sys.argv[1], config))
pipeline.compute(inputs, parse_period("2026Q3"), config)
"""


def timed(args: list[str], env: dict | None = None, timings: list | None = None) -> float:
    t0 = time.perf_counter()
    subprocess.run(args, check=True, capture_output=True, env=dict(os.environ, **(env or {})))
    took = time.perf_counter() - t0
    if timings is not None:  # the run's own timings, notebook by notebook
        out = Path(args[args.index("--out") + 1]) / "2026Q3" / "manifest.json"
        timings.append((took, json.loads(out.read_text())["timings_seconds"]))
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=1500)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="vga-bench-run-"))
    data = work / "sample"
    subprocess.run([sys.executable, "-m", "vga", "sample", "--out", str(data), "--accounts", str(args.accounts)],
                   check=True, capture_output=True)
    run = [sys.executable, "-m", "vga", "run", "--data", str(data), "--period", "2026Q3", "--out", str(work / "r"),
           "--force"]
    one_by_one, shipped = [], []
    results = {
        "floor": min(timed([sys.executable, "-c", FLOOR, str(data)]) for _ in range(args.repeat)),
        "sequential": min(timed(run, {"VGA_NOTEBOOK_WORKERS": "1"}, one_by_one) for _ in range(args.repeat)),
        "run": min(timed(run, None, shipped) for _ in range(args.repeat)),
    }
    print(f"sample of {args.accounts:,} accounts, best of {args.repeat}, {os.cpu_count()} cores")
    for name, seconds in results.items():
        print(f"  {name:<11} {seconds:7.1f} s")
    print(f"run / floor:      {results['run'] / results['floor']:.2f}x  (the cost of notebooks and the report)")
    print(f"run / sequential: {results['run'] / results['sequential']:.2f}x  (warm kernels, two at a time)")
    best_seq, best_run = min(one_by_one)[1], min(shipped)[1]
    print("notebook                      sequential      run   (seconds inside each run; the run overlaps two)")
    for name in sorted(k for k in best_run if k[:2].isdigit()):
        print(f"  {name:<26} {best_seq.get(name, float('nan')):8.1f} {best_run[name]:8.1f}")
    for part in ("load", "total"):
        print(f"  {part:<26} {best_seq[part]:8.1f} {best_run[part]:8.1f}")


if __name__ == "__main__":
    main()
