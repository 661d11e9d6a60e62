#!/usr/bin/env python3
"""Benchmark: a quarterly refresh through the incremental store against a
full rebuild, on 18 months of events, in the same run.

It writes a data folder in the data contract (5,000 accounts; the events of
``aggregate.py``'s generator, one Parquet file per month, 18 months) and
measures, each in a fresh process:

- rebuild:  loading with an empty store (every event file validated) and
            every month aggregated (:mod:`vga.load.store`, :mod:`vga.run.refresh`);
- refresh:  the same, with a store an earlier run filled from the first 15
            months: only the 3 new months' files are validated and only
            their months aggregated.

It checks that both give the same monthly figures and accepted counts,
then prints the ratio (target: a refresh costs at most 1/4 of a rebuild).

    .venv/bin/python benchmarks/refresh.py --events 50M
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from aggregate import DATA, generate, machine, parse_size  # noqa: E402

CHILD = r'''
import json, resource, sys, time
folder, store_root = sys.argv[1], sys.argv[2]
import duckdb, pandas as pd
from vga.load import load_folder, to_inputs
from vga.load.store import EventStore
from vga.run import refresh
t0 = time.perf_counter()
store = EventStore(store_root)
loaded = load_folder(folder, store=store)
events = loaded.tables["usage_events"]
inputs = to_inputs(loaded)
monthly, months = refresh.monthly_from_store(store_root, inputs.events.table(),
                                             refresh.contributors_from_parts(events.notes["store"]["parts"]),
                                             ["f0", "f1", "f2", "f3", "f4"])
seconds = time.perf_counter() - t0
check = [int(events.quality["rows_accepted"]), len(monthly), int(monthly["events"].sum()),
         int(monthly["active_users"].sum()), int(monthly["sessions"].sum()), int(monthly["active_days"].sum())]
print(json.dumps({"seconds": seconds, "peak_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
                  "validated": len(store.validated), "reused": len(store.reused), "months": months, "check": check}))
'''


def data_folder(events: int) -> tuple[Path, list[Path]]:
    """The contract folder (cached): accounts.csv and usage_events/<month>.parquet."""
    import duckdb

    folder = DATA / f"refresh_{events}"
    parts = folder / "usage_events"
    if (folder / ".done").exists():
        return folder, sorted(parts.glob("*.parquet"))
    shutil.rmtree(folder, ignore_errors=True)
    parts.mkdir(parents=True)
    source = generate(events)
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    (folder / "accounts.csv").write_text("account_id,arr\n" + "".join(f"acct-{i},{1000 + i}\n" for i in range(5000)))
    months = [r[0] for r in con.execute(
        f"SELECT DISTINCT strftime(timestamp, '%Y-%m') FROM read_parquet('{source}') ORDER BY 1").fetchall()]
    for m in months:
        con.execute(f"COPY (SELECT * FROM read_parquet('{source}') WHERE strftime(timestamp, '%Y-%m') = '{m}') "
                    f"TO '{parts / (m + '.parquet')}' (FORMAT parquet, ROW_GROUP_SIZE 1000000)")
    (folder / ".done").write_text("")
    return folder, sorted(parts.glob("*.parquet"))


def measure(folder: Path, store: Path) -> dict:
    done = subprocess.run([sys.executable, "-c", CHILD, str(folder), str(store)], capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"failed: {done.stderr.strip().splitlines()[-1]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def run(events: int) -> dict:
    folder, parts = data_folder(events)
    work = DATA / "refresh_work"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    print(f"\nquarterly refresh: {events:,} events over {len(parts)} months ({len(parts) - 3} seen, 3 new)", flush=True)
    rebuild = measure(folder, work / "store-rebuild")
    print(f"  rebuild  {rebuild['seconds']:8.2f} s  peak {rebuild['peak_bytes'] / 2**30:5.2f} GiB  "
          f"({rebuild['validated']} files validated, {len(rebuild['months']['aggregated'])} months aggregated)",
          flush=True)
    # The earlier quarter: the same files, without the 3 newest months (not timed).
    earlier = work / "earlier"
    (earlier / "usage_events").mkdir(parents=True)
    shutil.copy(folder / "accounts.csv", earlier / "accounts.csv")
    for p in parts[:-3]:
        (earlier / "usage_events" / p.name).symlink_to(p)
    measure(earlier, work / "store-refresh")
    for p in parts[-3:]:
        (earlier / "usage_events" / p.name).symlink_to(p)
    refresh = measure(earlier, work / "store-refresh")
    print(f"  refresh  {refresh['seconds']:8.2f} s  peak {refresh['peak_bytes'] / 2**30:5.2f} GiB  "
          f"({refresh['validated']} files validated, {refresh['reused']} reused; "
          f"{len(refresh['months']['aggregated'])} months aggregated, {len(refresh['months']['reused'])} reused)")
    same = rebuild["check"] == refresh["check"]
    print(f"  results {'agree' if same else 'DIFFER: ' + json.dumps([rebuild['check'], refresh['check']])}")
    print(f"  ratio   refresh = {refresh['seconds'] / rebuild['seconds']:.2f} of a rebuild (target <= 0.25)")
    shutil.rmtree(work, ignore_errors=True)
    return {"events": events, "months": len(parts), "rebuild": rebuild, "refresh": refresh, "agree": same}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", default="50M")
    ap.add_argument("--json")
    args = ap.parse_args()
    print(f"machine: {machine()}")
    result = run(parse_size(args.events))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
