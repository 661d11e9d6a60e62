#!/usr/bin/env python3
"""Benchmark: monthly usage per account from product events, vga against
every peer, measured in the same run, as ratios.

For each size it generates a Parquet file of synthetic events once (5,000
accounts, 18 months, sessions of 9 events, 20 features; kept in
``benchmarks/_data/``, out of the repository) and measures, each in a
fresh process so that time and peak memory (max RSS) are its own:

- vga:      ``vga.analysis.usage.monthly_usage_frame`` (Ibis on DuckDB, two stages,
            six months per query), every measure per account and month, exact;
- sql:      the same measures as one DuckDB SQL query written by hand, tuned
            (vga's own plan without Ibis: feature bits by a hash join, day
            bits by a shift, bit counts);
- sql-naive: the single-pass SQL an analyst writes first (COUNT DISTINCT);
- polars:   Polars, lazy, with the streaming engine;
- pandas:   the straightforward pandas groupby (read the file, nunique);
- scan:     a bare DuckDB scan of every value of every column (the floor).

Every contender computes the same rows; the run checks that they agree.
It prints seconds, million events per second and peak memory, then the
project's targets at 50M events: vga at least 10x pandas' throughput at
no more than 1/10 of its peak memory, within 4x of the bare scan, and no
slower than Polars or the hand-tuned SQL; and up to 1B events at no more
than 4 GB (vga runs DuckDB with ``VGA_MEMORY_LIMIT``, 3GB by default, and
spills to disk beyond it).

    .venv/bin/python benchmarks/aggregate.py                        # 10M, 50M
    .venv/bin/python benchmarks/aggregate.py --sizes 10M,50M,200M,1B --peers-up-to 50M
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
KINDS = ("vga", "sql", "sql-naive", "polars", "pandas", "scan")


def parse_size(text: str) -> int:
    text = text.strip().upper()
    factor = {"K": 1_000, "M": 1_000_000, "B": 1_000_000_000}.get(text[-1], 1)
    return int(float(text.rstrip("KMB")) * factor)


def label(n: int) -> str:
    return f"{n / 1e9:g}B" if n >= 1e9 else f"{n / 1e6:g}M"


def generate(rows: int) -> Path:
    """Write ``rows`` synthetic events to Parquet with DuckDB (once; cached)."""
    import duckdb

    DATA.mkdir(exist_ok=True)
    path = DATA / f"events_v2_{rows}.parquet"
    if path.exists():
        return path
    tmp = path.with_suffix(".tmp")
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    con.execute(f"SET temp_directory = '{DATA / 'spill'}'")
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
import json, os, resource, sys, time
kind, path, core = sys.argv[1], sys.argv[2], sys.argv[3].split(",")
# Imports are not timed: each contender is measured on its work alone.
import duckdb, pandas as pd
if kind == "vga":
    import ibis.backends.duckdb  # noqa: F401
    from vga import engine
    from vga.analysis import usage
elif kind == "polars":
    import polars as pl
t0 = time.perf_counter()
if kind == "vga":
    con = engine.connect()
    con.raw_sql("SET threads = 2")
    out = usage.monthly_usage_frame(engine.as_table(con, path), core)
elif kind in ("sql", "sql-naive"):
    con = duckdb.connect()
    con.execute("SET threads = 2"); con.execute("SET preserve_insertion_order = false")
    con.execute("SET enable_progress_bar = false")
    con.execute(f"SET memory_limit = '{os.environ.get('VGA_MEMORY_LIMIT', '3GB')}'")
    quoted = ", ".join(f"'{c}'" for c in core)
    if kind == "sql-naive":
        out = con.execute(f"""
          SELECT account_id, CAST(date_trunc('month', timestamp) AS DATE) AS month, count(*) AS events,
                 count(DISTINCT user_id) AS active_users, count(DISTINCT CAST(timestamp AS DATE)) AS active_days,
                 count(DISTINCT coalesce(session_id, user_id || '|' || CAST(CAST(timestamp AS DATE) AS VARCHAR))) AS sessions,
                 count(DISTINCT feature) AS features_used,
                 count(DISTINCT feature) FILTER (WHERE feature IN ({quoted})) AS core_features_used
          FROM read_parquet('{path}') GROUP BY ALL""").df()
    else:
        con.execute(f"CREATE TEMP TABLE bits AS SELECT feature, CAST(1 AS BIGINT) << (row_number() OVER (ORDER BY feature) - 1) "
                    f"AS bit FROM (SELECT DISTINCT feature FROM read_parquet('{path}'))")
        core_bits = con.execute(f"SELECT coalesce(sum(bit), 0) FROM bits WHERE feature IN ({quoted})").fetchone()[0]
        out = con.execute(f"""
          WITH s1 AS (
            SELECT e.account_id, CAST(e.timestamp AS DATE) AS day, e.user_id, e.session_id, count(*) AS events,
                   bit_or(b.bit) AS mask
            FROM read_parquet('{path}') e JOIN bits b USING (feature) GROUP BY ALL)
          SELECT account_id, CAST(date_trunc('month', day) AS DATE) AS month, sum(events) AS events,
                 count(DISTINCT user_id) AS active_users,
                 bit_count(bit_or(CAST(1 AS BIGINT) << (day(day) - 1))) AS active_days,
                 count(DISTINCT coalesce(session_id, user_id || '|' || CAST(day AS VARCHAR))) AS sessions,
                 bit_count(bit_or(mask)) AS features_used, bit_count(bit_or(mask) & {core_bits}) AS core_features_used
          FROM s1 GROUP BY ALL""").df()
elif kind == "polars":
    day = pl.col("timestamp").dt.date()
    out = (pl.scan_parquet(path)
           .with_columns(month=pl.col("timestamp").dt.truncate("1mo").dt.date(), day=day,
                         session=pl.coalesce(pl.col("session_id"), pl.col("user_id") + "|" + day.cast(pl.String)))
           .group_by("account_id", "month")
           .agg(events=pl.len(), active_users=pl.col("user_id").n_unique(), active_days=pl.col("day").n_unique(),
                sessions=pl.col("session").n_unique(), features_used=pl.col("feature").n_unique(),
                core_features_used=pl.col("feature").filter(pl.col("feature").is_in(core)).n_unique())
           .collect(engine="streaming").to_pandas())
elif kind == "pandas":
    df = pd.read_parquet(path)
    df["month"] = df["timestamp"].dt.to_period("M").dt.start_time
    df["day"] = df["timestamp"].dt.date
    df["session"] = df["session_id"].fillna(df["user_id"] + "|" + df["day"].astype(str))
    df["core"] = df["feature"].where(df["feature"].isin(core))
    out = df.groupby(["account_id", "month"]).agg(
        events=("feature", "size"), active_users=("user_id", "nunique"), active_days=("day", "nunique"),
        sessions=("session", "nunique"), features_used=("feature", "nunique"), core_features_used=("core", "nunique"),
    ).reset_index()
else:
    con = duckdb.connect()
    con.execute("SET threads = 2"); con.execute("SET enable_progress_bar = false")
    # Every value of every column is read (counts alone could come from metadata).
    out = pd.DataFrame({"n": [con.execute(
        f"SELECT max(epoch(timestamp)), max(length(account_id)), max(length(user_id)), "
        f"max(length(session_id)), max(length(feature)) FROM read_parquet('{path}')").fetchone()[0]]})
seconds = time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB
check = None
if kind != "scan":  # what every contender must agree on
    out["month"] = pd.to_datetime(out["month"]).dt.strftime("%Y-%m")
    cols = ["events", "active_users", "active_days", "sessions", "features_used", "core_features_used"]
    check = [len(out)] + [int(out[c].sum()) for c in cols]
print(json.dumps({"seconds": seconds, "peak_bytes": peak, "rows_out": len(out), "check": check}))
'''


def measure(kind: str, path: Path) -> dict:
    done = subprocess.run([sys.executable, "-c", CHILD, kind, str(path), ",".join(CORE)], capture_output=True,
                          text=True)
    if done.returncode:
        return {"error": done.stderr.strip().splitlines()[-1] if done.stderr else f"exit {done.returncode}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores, {cpu}, {memory:.0f} GiB, Python {platform.python_version()}"


def best_of(kind: str, path: Path, repeat: int) -> dict:
    """The fastest of ``repeat`` fresh-process runs (a shared 2-core machine is noisy)."""
    runs = [measure(kind, path) for _ in range(repeat)]
    good = [r for r in runs if "error" not in r]
    if not good:
        return runs[0]
    best = min(good, key=lambda r: r["seconds"])
    return best | {"runs": len(good), "slowest": max(r["seconds"] for r in good)}


def run(sizes: list[int], kinds: list[str], peers_up_to: int, pandas_up_to: int, repeat: int = 3,
        repeat_up_to: int = 50_000_000) -> list[dict]:
    results = []
    for size in sizes:
        t0 = time.perf_counter()
        path = generate(size)
        print(f"\n{size:,} events ({path.stat().st_size / 1e9:,.2f} GB Parquet, ready in {time.perf_counter() - t0:.1f} s)",
              flush=True)
        row = {"events": size}
        for kind in kinds:
            if kind not in ("vga", "scan") and size > peers_up_to:
                continue
            if kind == "pandas" and size > pandas_up_to:
                print(f"  {kind:<9} skipped above {pandas_up_to:,} events (about 200 bytes of memory per event)")
                continue
            r = best_of(kind, path, repeat if size <= repeat_up_to and kind != "pandas" else 1)
            row[kind] = r
            if "error" in r:
                print(f"  {kind:<9} failed: {r['error']}")
                continue
            spread = f"  (slowest {r['slowest']:.2f} s)" if r.get("runs", 1) > 1 else ""
            print(f"  {kind:<9} {r['seconds']:8.2f} s  {size / r['seconds'] / 1e6:7.1f} M events/s  "
                  f"peak {r['peak_bytes'] / 2**30:6.2f} GiB{spread}", flush=True)
        checks = {k: v["check"] for k, v in row.items() if isinstance(v, dict) and v.get("check")}
        agree = len({json.dumps(c) for c in checks.values()}) == 1
        row["agree"] = agree
        print(f"  results {'agree' if agree else 'DIFFER: ' + json.dumps(checks)} ({', '.join(checks)})")
        print_ratios(row)
        results.append(row)
    if len(results) > 1:
        base = results[0]
        print("\nhow vga grows (against the smallest size):")
        for r in results:
            if "vga" in r and "error" not in r["vga"]:
                print(f"  {label(r['events']):>5}: {r['events'] / base['events']:6.0f}x events, "
                      f"{r['vga']['seconds'] / base['vga']['seconds']:6.1f}x time, "
                      f"{r['vga']['peak_bytes'] / base['vga']['peak_bytes']:5.1f}x peak memory "
                      f"({r['vga']['peak_bytes'] / 2**30:.2f} GiB)")
    return results


def ok(row, kind) -> bool:
    return kind in row and "error" not in row[kind]


def print_ratios(row: dict) -> None:
    if not ok(row, "vga"):
        return
    v = row["vga"]
    if ok(row, "pandas"):
        p = row["pandas"]
        print(f"  ratio   vga throughput = {p['seconds'] / v['seconds']:.1f}x pandas (target >= 10x); "
              f"peak memory = 1/{p['peak_bytes'] / v['peak_bytes']:.1f} of pandas (target <= 1/10)")
    if ok(row, "scan"):
        print(f"  ratio   vga time = {v['seconds'] / row['scan']['seconds']:.1f}x the bare scan (target <= 4x)")
    for peer in ("polars", "sql", "sql-naive"):
        if ok(row, peer):
            print(f"  ratio   vga time = {v['seconds'] / row[peer]['seconds']:.2f}x {peer} "
                  f"(target <= 1: no slower)")
    print(f"  memory  vga peak {v['peak_bytes'] / 2**30:.2f} GiB (target <= 4 GB)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="10M,50M")
    ap.add_argument("--only", default=",".join(KINDS), help="contenders: " + ", ".join(KINDS))
    ap.add_argument("--peers-up-to", default="50M", help="measure the peers up to this size, vga and scan at all")
    ap.add_argument("--pandas-up-to", default="60M", help="pandas needs about 200 bytes of memory per event")
    ap.add_argument("--repeat", type=int, default=3, help="best of this many runs per contender (up to 50M events)")
    ap.add_argument("--json", help="also write the results to this file")
    args = ap.parse_args()
    print(f"machine: {machine()}; best of {args.repeat} fresh-process runs up to 50M events (pandas: one)")
    results = run([parse_size(s) for s in args.sizes.split(",")], [k.strip() for k in args.only.split(",")],
                  parse_size(args.peers_up_to), parse_size(args.pandas_up_to), args.repeat)
    if args.json:
        Path(args.json).write_text(json.dumps({"machine": machine(), "results": results}, indent=2))


if __name__ == "__main__":
    main()
