#!/usr/bin/env python3
"""Benchmark: event aggregation throughput and peak memory, as ratios.

For each size it generates a Parquet file of synthetic events (5,000
accounts, 18 months, 20 features), then measures, each in a fresh process so
that peak memory is its own, in the same run:

- vga:      ``vga.usage.monthly_usage`` (Ibis on DuckDB, two-stage), all
            measures per account and month;
- pandas:   the straightforward pandas version an analyst would write
            (read the file, then one groupby with nunique);
- scan:     a bare DuckDB scan of every column of the file (the floor).

It prints rows per second and peak memory (max RSS), then the ratios the
project targets: vga throughput >= 8x pandas at <= 1/8 of its peak memory,
and vga time within 6x of the bare scan.

    .venv/bin/python benchmarks/aggregate.py                 # 1M, 10M, 50M
    .venv/bin/python benchmarks/aggregate.py --sizes 1M,10M --skip-pandas-above 20M
    .venv/bin/python benchmarks/aggregate.py --sizes 200M --only vga,scan
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / "_data"
CORE = ["f0", "f1", "f2", "f3", "f4"]


def parse_size(text: str) -> int:
    text = text.strip().upper()
    factor = {"K": 1_000, "M": 1_000_000, "B": 1_000_000_000}.get(text[-1], 1)
    return int(float(text.rstrip("KMB")) * factor)


def generate(rows: int) -> Path:
    """Write ``rows`` synthetic events to Parquet with DuckDB (cached)."""
    import duckdb

    DATA.mkdir(exist_ok=True)
    path = DATA / f"events_v2_{rows}.parquet"
    if path.exists():
        return path
    tmp = path.with_suffix(".tmp")
    con = duckdb.connect()
    con.execute(f"""
        COPY (
          -- Sessions of 9 events, 45 seconds apart; each session belongs to
          -- one user of one account and starts at a random second of 18 months.
          SELECT
            TIMESTAMP '2025-04-01' + to_seconds(CAST(hash(s) % (548 * 86400) AS BIGINT) + (i % 9) * 45) AS timestamp,
            'acct-' || CAST(hash(s * 7) % 5000 AS VARCHAR) AS account_id,
            'user-' || CAST(hash(s * 7) % 5000 AS VARCHAR) || '-' || CAST(hash(s * 13) % 12 AS VARCHAR) AS user_id,
            's-' || CAST(s AS VARCHAR) AS session_id,
            'f' || CAST(hash(i * 31) % 20 AS VARCHAR) AS feature
          FROM (SELECT i, i // 9 AS s FROM range({rows}) t(i))
        ) TO '{tmp}' (FORMAT parquet, ROW_GROUP_SIZE 1000000)
    """)
    tmp.rename(path)
    return path


CHILD = r'''
import json, resource, sys, time
kind, path = sys.argv[1], sys.argv[2]
core = ["f0", "f1", "f2", "f3", "f4"]
# Imports are not timed: each contender is measured on its work alone.
import duckdb, pandas as pd
if kind == "vga":
    from vga import usage
t0 = time.perf_counter()
if kind == "vga":
    con = usage.connect()
    con.raw_sql("SET threads = 2")
    out = usage.monthly_usage(usage.as_table(con, path), core).to_pandas()
    rows_out = len(out)
elif kind == "pandas":
    df = pd.read_parquet(path)
    df["month"] = df["timestamp"].dt.to_period("M")
    df["day"] = df["timestamp"].dt.date
    df["core"] = df["feature"].where(df["feature"].isin(core))
    out = df.groupby(["account_id", "month"]).agg(
        events=("feature", "size"), active_users=("user_id", "nunique"), active_days=("day", "nunique"),
        sessions=("session_id", "nunique"), features_used=("feature", "nunique"), core_features_used=("core", "nunique"))
    out["events_per_session"] = out["events"] / out["sessions"]
    out["core_adoption"] = out["core_features_used"] / len(core)
    rows_out = len(out)
else:
    con = duckdb.connect()
    con.execute("SET threads = 2")
    # Every value of every column is read (counts alone could come from metadata).
    rows_out = con.execute(
        f"SELECT max(epoch(timestamp)), max(length(account_id)), max(length(user_id)), "
        f"max(length(session_id)), max(length(feature)) FROM read_parquet('{path}')").fetchone()[0]
seconds = time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB
print(json.dumps({"seconds": seconds, "peak_bytes": peak, "rows_out": rows_out}))
'''


def measure(kind: str, path: Path) -> dict:
    done = subprocess.run([sys.executable, "-c", CHILD, kind, str(path)], capture_output=True, text=True)
    if done.returncode:
        return {"error": done.stderr.strip().splitlines()[-1] if done.stderr else f"exit {done.returncode}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="1M,10M,50M")
    ap.add_argument("--only", default="vga,pandas,scan", help="which measurements (vga, pandas, scan)")
    ap.add_argument("--skip-pandas-above", default="60M", help="pandas needs ~160 bytes per event of memory")
    ap.add_argument("--json", help="also write the results to this file")
    args = ap.parse_args()
    kinds = [k.strip() for k in args.only.split(",")]
    limit = parse_size(args.skip_pandas_above)
    cpu = platform.processor() or platform.machine()
    print(f"machine: {os.cpu_count()} cores, {platform.machine()} {cpu}, Python {platform.python_version()}")
    results = []
    for size in [parse_size(s) for s in args.sizes.split(",")]:
        t0 = time.perf_counter()
        path = generate(size)
        print(f"\n{size:,} events ({path.stat().st_size / 1e6:,.0f} MB Parquet, made in {time.perf_counter() - t0:.1f} s)")
        row = {"events": size}
        for kind in kinds:
            if kind == "pandas" and size > limit:
                print(f"  {kind:<7} skipped above {limit:,} events")
                continue
            r = measure(kind, path)
            row[kind] = r
            if "error" in r:
                print(f"  {kind:<7} failed: {r['error']}")
                continue
            print(f"  {kind:<7} {r['seconds']:8.2f} s  {size / r['seconds'] / 1e6:8.1f} M rows/s  "
                  f"peak {r['peak_bytes'] / 2**30:6.2f} GiB")
        v, p, s = row.get("vga"), row.get("pandas"), row.get("scan")
        if v and "error" not in v:
            if p and "error" not in p:
                print(f"  ratio   vga throughput = {p['seconds'] / v['seconds']:.1f}x pandas (target >= 8x); "
                      f"vga peak memory = 1/{p['peak_bytes'] / v['peak_bytes']:.1f} of pandas (target <= 1/8)")
            if s and "error" not in s:
                print(f"  ratio   vga time = {v['seconds'] / s['seconds']:.1f}x the bare scan (target <= 6x)")
        results.append(row)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
