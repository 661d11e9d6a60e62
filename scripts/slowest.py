#!/usr/bin/env python3
"""The slowest tests of a run, as the Markdown table docs/analysts/tests.md holds.

    python3.11 tasks.py test --junitxml=test-output/junit.xml
    .venv/bin/python scripts/slowest.py test-output/junit.xml [--top 20]

Reads pytest's JUnit XML (each test's seconds: its set-up, call and tear-down;
a session fixture's cost lands on the first test that asked for it) and
prints the ``--top`` slowest tests, the total of all tests' seconds, and
the number of tests.
"""

from __future__ import annotations

import argparse
import sys
import xml.etree.ElementTree as ET
from pathlib import Path


def slowest(path: Path, top: int) -> tuple[list[tuple[float, str]], float, int]:
    """``(seconds, test id)`` of the ``top`` slowest, the sum over all
    tests in seconds, and how many tests ran."""
    cases = ET.parse(path).getroot().iter("testcase")
    timed = []
    for case in cases:
        name = f"{case.get('classname', '').replace('.', '/')}.py::{case.get('name')}"
        timed.append((float(case.get("time", 0)), name))
    timed.sort(reverse=True)
    return timed[:top], sum(t for t, _ in timed), len(timed)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("junit", type=Path)
    parser.add_argument("--top", type=int, default=20)
    args = parser.parse_args(argv)
    top, total, count = slowest(args.junit, args.top)
    print("| seconds | test |\n|---:|---|")
    for seconds, name in top:
        print(f"| {seconds:,.1f} | `{name}` |")
    print(f"\n{count} tests, {total:,.0f} s of test time in all (summed over the workers).")


if __name__ == "__main__":
    main(sys.argv[1:])
