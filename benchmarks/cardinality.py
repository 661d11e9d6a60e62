#!/usr/bin/env python3
"""Benchmark: a whole `vga run` with a slicing dimension of many values.

A real company of 10,362 accounts sliced by an `agent` column of about 700
values spent 119 s of a 136 s run in the survival step (its Cox model took
one indicator per value, and then did not converge). This benchmark writes
such a company in the same session: the sample (`vga sample --accounts N`)
with an extra `agent` column on accounts.csv, ``--values`` values of very
different sizes (a few hundred accounts down to one, every value used),
named as an extra slicing dimension in the run's vga.toml
(``[analysis] slicing_dimensions = ["agent"]``). It times `vga run` for
2026Q3 twice, each in a fresh process:

- baseline:  the same folder and configuration without the agent dimension;
- agent:     with it.

It prints, from each run's manifest, every step's seconds (the computation
of each node, then each chapter's notebook), its ratio to the baseline and
its share of the agent run's total, and flags (``<<``) any step that takes
more than a quarter of that run. Each figure is the best of ``--repeat``.

    .venv/bin/python benchmarks/cardinality.py                      # 10,362 accounts, 700 values
    .venv/bin/python benchmarks/cardinality.py --accounts 20000 --values 2000 --repeat 2
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

QUARTER = 0.25  # a step above this share of the run is flagged


def add_agent(data: Path, values: int, seed: int = 11) -> pd.Series:
    """An ``agent`` column on ``data``/accounts.csv: ``values`` values, each
    used once, the rest drawn with weights 1 / rank^0.6 (a long tail).
    Returns the accounts per value."""
    path = data / "accounts.csv"
    accounts = pd.read_csv(path, dtype=str, keep_default_na=False)
    if len(accounts) < values:
        sys.exit(f"{len(accounts):,} accounts cannot hold {values:,} values")
    rng = np.random.default_rng(seed)
    names = np.array([f"Agent {i:04d}" for i in range(values)])
    weight = 1 / np.arange(1, values + 1) ** 0.6
    agent = np.concatenate([names, rng.choice(names, len(accounts) - values, p=weight / weight.sum())])
    accounts["agent"] = rng.permutation(agent)
    accounts.to_csv(path, index=False)
    return accounts["agent"].value_counts()


def timed_run(data: Path, config: Path, out: Path) -> tuple[float, dict]:
    """(wall seconds, the manifest's timings) of one `vga run` in a fresh process."""
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "vga", "run", "--data", str(data), "--period", "2026Q3",
                           "--config", str(config), "--out", str(out), "--force"],
                          capture_output=True, text=True)
    took = time.perf_counter() - t0
    if done.returncode != 0:
        sys.exit(f"vga run failed ({done.returncode}): {done.stderr[-2000:]}")
    return took, json.loads((out / "2026Q3" / "manifest.json").read_text())["timings_seconds"]


def steps(timings: dict) -> dict[str, float]:
    """Each step's seconds: the nodes' computations, then the notebooks."""
    out = {f"compute {k}": v for k, v in sorted(timings.get("steps", {}).items(), key=lambda kv: -kv[1])}
    out |= {f"notebook {k}": v for k, v in sorted(timings.items()) if k[:2].isdigit()}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=10_362)
    parser.add_argument("--values", type=int, default=700, help="values of the agent column")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the sample and the runs (printed folder)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="vga-bench-cardinality-"))
    data = work / "sample"
    subprocess.run([sys.executable, "-m", "vga", "sample", "--out", str(data), "--accounts", str(args.accounts)],
                   check=True, capture_output=True)
    sizes = add_agent(data, args.values)
    # The user's own configurations (--config): the sample's settings, then the same naming the agent column.
    settings = (data / "vga.toml").read_text()
    configs = {"baseline": work / "baseline.toml", "agent": work / "agent.toml"}
    configs["baseline"].write_text(settings)
    configs["agent"].write_text(settings + '\n[analysis]\nslicing_dimensions = ["agent"]\n')
    best: dict[str, tuple[float, dict]] = {}
    for _ in range(args.repeat):
        for name, config in configs.items():
            took, timings = timed_run(data, config, work / f"r-{name}")
            if name not in best or timings["total"] < best[name][1]["total"]:
                best[name] = (took, timings)
    base, many = best["baseline"][1], best["agent"][1]
    total = many["total"]
    print(f"{args.accounts:,} accounts, agent column of {len(sizes):,} values ({int((sizes >= 10).sum()):,} with "
          f"at least 10 accounts; largest {int(sizes.max()):,}, smallest {int(sizes.min()):,}); best of "
          f"{args.repeat}, {os.cpu_count()} cores")
    print(f"vga run: baseline {base['total']:.1f} s, with agent {total:.1f} s ({total / base['total']:.2f}x)\n")
    print("| step | baseline | with agent | x baseline | share of the run | |")
    print("|---|---:|---:|---:|---:|---|")
    flagged = []
    base_steps = steps(base)
    for step, seconds in steps(many).items():
        before = base_steps.get(step, float("nan"))
        share = seconds / total
        flag = "<< above a quarter" if share > QUARTER else ""
        if flag:
            flagged.append(step)
        print(f"| {step} | {before:.1f} s | {seconds:.1f} s | {seconds / before if before else float('nan'):.2f} | "
              f"{share:.1%} | {flag} |")
    for phase in ("load", "monthly_usage", "compute", "notebooks", "report", "total"):
        if phase in many:
            ratio = many[phase] / base[phase] if base.get(phase) else float("nan")
            print(f"| (phase) {phase} | {base.get(phase, float('nan')):.1f} s | {many[phase]:.1f} s | {ratio:.2f} | "
                  f"{many[phase] / total:.1%} | |")
    print("\n" + (f"above a quarter of the run: {', '.join(flagged)}" if flagged
                  else "no step takes more than a quarter of the run"))
    if args.keep:
        print(f"kept in {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
