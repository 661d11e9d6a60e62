#!/usr/bin/env python3
"""Benchmark: the loader's per-cell text checks, whole-column (Arrow) against per value (Python).

Loading a table parses each column by its contract type; the shape checks
of numbers and dates, and the contact masking's first look at every text
cell, ran as one Python ``re`` call per value (at 50,000 accounts, millions
of calls). They now run over the whole column in Arrow's compute
(:mod:`vga.textscan`). This benchmark builds columns as an export holds
them (``--rows`` cells each: dates with and without a time, amounts,
scores, free text with the odd e-mail address and phone number), and times
in the same process:

- baseline: the same checks, Python's ``re`` per value (what the loader did);
- vga:      :func:`vga.textscan.fullmatch` and :func:`vga.textscan.search`;

and then a whole :func:`vga.load.parse.parse_column` of each kind and
:func:`vga.privacy.mask_frame` of the text, checking that both routes give
the same answer on every cell. Each figure is the best of ``--repeat``.

    .venv/bin/python benchmarks/textscan.py                    # 1,000,000 cells a column
    .venv/bin/python benchmarks/textscan.py --rows 200000 --repeat 5
"""

from __future__ import annotations

import argparse
import re
import time

import numpy as np
import pandas as pd

from vga import privacy
from vga.contract import Column
from vga.load import messages as msg
from vga.load.parse import parse_column
from vga.textscan import fullmatch, search


def columns(rows: int, seed: int = 3) -> dict[str, pd.Series]:
    """Columns of ``rows`` trimmed text cells, as the loader sees them."""
    rng = np.random.default_rng(seed)
    days = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 1000, rows), unit="D")
    dates = days.strftime("%Y-%m-%d").to_numpy(dtype=object)
    stamps = (days + pd.to_timedelta(rng.integers(0, 86400, rows), unit="s")).strftime("%Y-%m-%dT%H:%M:%SZ")
    amounts = np.char.mod("%.2f", rng.gamma(2.0, 8000.0, rows)).astype(object)
    words = np.array(["great", "slow", "support", "onboarding", "price", "reports", "the", "export", "needs", "work"])
    text = np.array([" ".join(rng.choice(words, 6)) for _ in range(min(rows, 5000))], dtype=object)
    comments = text[rng.integers(0, len(text), rows)]
    planted = rng.random(rows) < 0.01
    comments = np.where(planted, "call me on +44 20 7946 0958 or jane.doe@acme.com", comments)
    for column in (dates, amounts):
        column[rng.random(rows) < 0.02] = ""  # blanks
    return {"date": pd.Series(dates), "timestamp": pd.Series(stamps.to_numpy(dtype=object)),
            "amount": pd.Series(amounts), "comment": pd.Series(comments, dtype=object)}


def best(repeat: int, work) -> tuple[float, object]:
    seconds, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = work()
        seconds.append(time.perf_counter() - start)
    return min(seconds), result


def per_value_fullmatch(values: pd.Series, pattern: str) -> pd.Series:
    compiled = re.compile(pattern, re.ASCII)
    return values.map(lambda v: isinstance(v, str) and compiled.fullmatch(v) is not None).astype(bool)


def per_value_search(values: pd.Series, pattern: re.Pattern) -> pd.Series:
    return values.map(lambda v: isinstance(v, str) and pattern.search(v) is not None).astype(bool)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    data = columns(args.rows)
    checks = [("date shape", data["date"], lambda v: per_value_fullmatch(v, msg.ISO_PATTERN),
               lambda v: fullmatch(v, msg.ISO_PATTERN)),
              ("timestamp shape", data["timestamp"], lambda v: per_value_fullmatch(v, msg.ISO_PATTERN),
               lambda v: fullmatch(v, msg.ISO_PATTERN)),
              ("number shape", data["amount"], lambda v: per_value_fullmatch(v, msg.NUMBER_PATTERN),
               lambda v: fullmatch(v, msg.NUMBER_PATTERN)),
              ("contact first look", data["comment"], lambda v: per_value_search(v, privacy._LOOK),
               lambda v: search(v, privacy._LOOK.pattern, ignore_case=True))]
    print(f"{args.rows:,} cells a column, best of {args.repeat}\n")
    print(f"{'check':<22}{'per value (baseline)':>22}{'whole column (vga)':>20}{'x faster':>10}  same")
    for name, values, baseline, ours in checks:
        slow, expected = best(args.repeat, lambda: baseline(values))
        fast, got = best(args.repeat, lambda: ours(values))
        print(f"{name:<22}{slow:>20.3f} s{fast:>18.3f} s{slow / fast:>10.1f}  {bool((expected == got).all())}")
    print("\nwhole steps with vga's checks (seconds, best of the repeats)")
    for name, kind in (("date", "date"), ("timestamp", "timestamp"), ("amount", "number")):
        seconds, _ = best(args.repeat, lambda: parse_column(data[name], Column(name, kind, required=False)))
        print(f"  parse_column ({kind:<9})  {seconds:8.3f} s")
    frame = pd.DataFrame({"comment": data["comment"]})
    seconds, masked = best(args.repeat, lambda: privacy.mask_frame(frame))
    hidden = int((masked["comment"] != frame["comment"]).sum())
    print(f"  mask_frame (comments)     {seconds:8.3f} s  ({hidden:,} cells masked)")


if __name__ == "__main__":
    main()
