#!/usr/bin/env python3
"""Benchmark: a `vga run` with its events in a warehouse, against the same data in files.

For each size it writes a sample company, uploads its product events to the
warehouse (a table named ``vga_bench_events``), and copies the folder
without its event files, configured to read the events from there
(``[warehouse] url_env``). Then, in the same session, in fresh processes, it
times ``vga run`` for 2026Q3 on both folders and prints the seconds, the
ratio warehouse / files (the goal is at most 2), and the steps whose time
differs most (from the runs' manifests). Both runs must give the same
figures: the script compares the quadrant table and stops if they differ.

    .venv/bin/python benchmarks/warehouse.py --url postgresql://vga@127.0.0.1:55432/postgres
    .venv/bin/python benchmarks/warehouse.py --url 'pyspark://?spark.master=local[2]' --sizes 150
    VGA_BENCH_WAREHOUSE=postgresql://... .venv/bin/python benchmarks/warehouse.py --sizes 150,6000

The URL may also come from ``VGA_BENCH_WAREHOUSE``. ``scripts/postgres.sh
start DIR PORT`` starts a throwaway PostgreSQL server on loopback.
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

import ibis
import pandas as pd

TABLE = "vga_bench_events"


def upload(url: str, data: Path) -> int:
    """Put the folder's accepted events into the warehouse table; returns the rows."""
    from vga import engine
    from vga.load import load_folder

    events = load_folder(data).events_frame()[["timestamp", "account_id", "user_id", "session_id", "feature"]]
    con = engine.open_warehouse(url)
    if not url.startswith("postgres"):
        con.create_table(TABLE, events, overwrite=True)
        return len(events)
    # Ibis inserts a data frame row by row; PostgreSQL's COPY takes millions a minute.
    con.create_table(TABLE, schema=ibis.memtable(events.head(0)).schema(), overwrite=True)
    with con.con.cursor() as cursor, con.con.transaction():
        with cursor.copy(f"COPY {TABLE} FROM STDIN WITH (FORMAT csv)") as copy:
            for start in range(0, len(events), 500_000):
                copy.write(events.iloc[start:start + 500_000].to_csv(index=False, header=False))
    return len(events)


def timed_run(data: Path, out: Path, env: dict) -> tuple[float, dict]:
    t0 = time.perf_counter()
    # The configuration is given as the user's own: a data folder's vga.toml may not name a warehouse.
    own = ["--config", str(data / "vga.toml")] if (data / "vga.toml").exists() else []
    done = subprocess.run([sys.executable, "-m", "vga", "run", "--data", str(data), "--period", "2026Q3",
                           "--out", str(out), *own], capture_output=True, text=True, env=dict(os.environ, **env))
    took = time.perf_counter() - t0
    if done.returncode != 0:
        sys.exit(f"vga run on {data} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return took, json.loads((out / "2026Q3" / "manifest.json").read_text())["timings_seconds"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default=os.environ.get("VGA_BENCH_WAREHOUSE"), help="the warehouse (SQLAlchemy-style URL)")
    parser.add_argument("--sizes", default="150,6000", help="accounts, comma-separated")
    args = parser.parse_args()
    if not args.url:
        sys.exit("give the warehouse: --url or VGA_BENCH_WAREHOUSE")
    work = Path(tempfile.mkdtemp(prefix="vga-bench-warehouse-"))
    env = {"VGA_BENCH_WAREHOUSE_URL": args.url}
    rows = []
    for n in sorted(int(s) for s in args.sizes.split(",")):
        files = work / f"files{n}"
        subprocess.run([sys.executable, "-m", "vga", "sample", "--out", str(files), "--accounts", str(n)],
                       check=True, capture_output=True)
        uploaded = upload(args.url, files)
        remote = work / f"warehouse{n}"
        shutil.copytree(files, remote, ignore=shutil.ignore_patterns("usage_events", "usage_events.*"))
        config = (remote / "vga.toml").read_text() if (remote / "vga.toml").exists() else ""
        (remote / "vga.toml").write_text(config + f'\n[warehouse]\nurl_env = "VGA_BENCH_WAREHOUSE_URL"\n'
                                         f'events_table = "{TABLE}"\n')
        files_s, files_t = timed_run(files, work / f"out-files{n}", env)
        remote_s, remote_t = timed_run(remote, work / f"out-warehouse{n}", env)
        a = pd.read_csv(work / f"out-files{n}" / "2026Q3" / "results" / "quadrants.csv")
        b = pd.read_csv(work / f"out-warehouse{n}" / "2026Q3" / "results" / "quadrants.csv")
        same = a.drop(columns="usage_source").equals(b.drop(columns="usage_source"))
        if not same:
            sys.exit(f"{n:,} accounts: the warehouse run's quadrants differ from the files run's")
        steps = {k: (files_t["steps"].get(k, 0.0), remote_t["steps"].get(k, 0.0)) for k in remote_t["steps"]}
        rows.append((n, uploaded, files_s, remote_s, steps))
        print(f"[bench] {n:,} accounts ({uploaded:,} events): files {files_s:.1f} s, warehouse {remote_s:.1f} s, "
              f"ratio {remote_s / files_s:.2f}", flush=True)
    print(f"\nvga run 2026Q3, events in {args.url.split(':', 1)[0]} against the same data in files "
          "(measured in this session)\n")
    print("| accounts | events | files | warehouse | warehouse / files |")
    print("|---:|---:|---:|---:|---:|")
    for n, events, f, w, _ in rows:
        print(f"| {n:,} | {events:,} | {f:.1f} s | {w:.1f} s | {w / f:.2f} |")
    for n, _, _, _, steps in rows:
        slowest = sorted(steps.items(), key=lambda kv: kv[1][0] - kv[1][1])[:5]
        print(f"\n{n:,} accounts, the steps the warehouse slows most: " +
              ", ".join(f"{k} {f:.1f} s -> {w:.1f} s" for k, (f, w) in slowest))
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
