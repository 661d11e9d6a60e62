#!/usr/bin/env python3
"""Benchmark: a whole `vga run` by the number of accounts.

For each size it writes a sample company (`vga sample --accounts N`: three
years of renewals, events in proportion to the accounts), then times
`vga sample` and `vga run` for 2026Q3 in fresh processes, sampling the
summed resident memory of each command's whole process tree (the run and its
notebook kernels) every 0.2 s. It prints, per size, the sample's and the
run's seconds and peak memory, each step's seconds (from the run's
manifest), and each step's growth exponent: the slope of log(seconds)
against log(accounts), fitted over every size (1 is linear; 2 grows with
the square of the accounts). The baseline is the smallest size, measured in
the same session, so the ratios hold on any machine.

    .venv/bin/python benchmarks/accounts.py                          # 1,500, 3,000 and 6,000 accounts
    .venv/bin/python benchmarks/accounts.py --sizes 1500,6000,20000,50000
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil


def measured(args: list[str]) -> tuple[float, float]:
    """(seconds, peak GB of the process tree's summed resident memory)."""
    t0 = time.perf_counter()
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = [0]
    done = threading.Event()

    def watch():
        root = psutil.Process(process.pid)
        while not done.is_set():
            try:
                tree = [root, *root.children(recursive=True)]
                peak[0] = max(peak[0], sum(p.memory_info().rss for p in tree if p.is_running()))
            except psutil.Error:
                pass
            done.wait(0.2)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    _, err = process.communicate()
    done.set()
    watcher.join()
    if process.returncode != 0:
        sys.exit(f"{' '.join(args[:4])}... failed ({process.returncode}): {err.decode()[-2000:]}")
    return time.perf_counter() - t0, peak[0] / 1e9


def slope(sizes: list[int], seconds: list[float]) -> float:
    """Least-squares slope of log(seconds) on log(sizes)."""
    xs = [math.log(s) for s in sizes]
    ys = [math.log(max(t, 1e-3)) for t in seconds]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1500,3000,6000", help="accounts, comma-separated (at least two)")
    parser.add_argument("--keep", action="store_true", help="keep the samples and runs (printed folder)")
    parser.add_argument("--save", metavar="FILE", help="also write the measurements as JSON to FILE")
    args = parser.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(","))
    work = Path(tempfile.mkdtemp(prefix="vga-bench-accounts-"))
    rows = []
    for n in sizes:
        data, out = work / f"s{n}", work / f"r{n}"
        sample_s, sample_gb = measured([sys.executable, "-m", "vga", "sample", "--out", str(data),
                                        "--accounts", str(n)])
        run_s, run_gb = measured([sys.executable, "-m", "vga", "run", "--data", str(data), "--period", "2026Q3",
                                  "--out", str(out)])
        timings = json.loads((out / "2026Q3" / "manifest.json").read_text())["timings_seconds"]
        report_mb = (out / "2026Q3" / "report.html").stat().st_size / 1e6
        rows.append({"accounts": n, "sample_s": sample_s, "sample_gb": sample_gb, "run_s": run_s, "run_gb": run_gb,
                     "report_mb": report_mb, "steps": timings.get("steps", {}),
                     "phases": {k: v for k, v in timings.items() if isinstance(v, (int, float))}})
        print(f"[bench] {n:,} accounts: sample {sample_s:.1f} s ({sample_gb:.2f} GB), run {run_s:.1f} s "
              f"({run_gb:.2f} GB), report {report_mb:.1f} MB", flush=True)
        if not args.keep:
            shutil.rmtree(data, ignore_errors=True)
    if args.save:
        Path(args.save).write_text(json.dumps(rows, indent=1))
    base = rows[0]
    print(f"\nvga run by accounts ({os.cpu_count()} cores; ratios against {base['accounts']:,} accounts, "
          "measured in this session)\n")
    print("| accounts | `vga sample` | sample peak | `vga run` 2026Q3 | x baseline | run peak | report |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['accounts']:,} | {r['sample_s']:.1f} s | {r['sample_gb']:.2f} GB | {r['run_s']:.1f} s | "
              f"{r['run_s'] / base['run_s']:.2f} | {r['run_gb']:.2f} GB | {r['report_mb']:.1f} MB |")
    print("\n| part of the run | " + " | ".join(f"{r['accounts']:,}" for r in rows) + " | growth exponent |")
    print("|---|" + "---:|" * (len(rows) + 1))
    parts = [("phase", k) for k in ("load", "monthly_usage", "compute", "notebooks", "report")] + \
            [("step", k) for k in sorted(base["steps"], key=lambda k: -rows[-1]["steps"].get(k, 0))]
    for kind, key in parts:
        seconds = [(r["phases"] if kind == "phase" else r["steps"]).get(key, float("nan")) for r in rows]
        label = key if kind == "phase" else f"step: {key}"
        print(f"| {label} | " + " | ".join(f"{s:.1f} s" for s in seconds)
              + f" | {slope([r['accounts'] for r in rows], seconds):.2f} |")
    print(f"\nrun total growth exponent: {slope([r['accounts'] for r in rows], [r['run_s'] for r in rows]):.2f}")
    if args.keep:
        print(f"kept in {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
