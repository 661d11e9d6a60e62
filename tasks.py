#!/usr/bin/env python3
"""The project's two commands, for a fresh machine with only Python 3.11.

    python3.11 tasks.py demo   # environment, sample data, a full run; prints the report path
    python3.11 tasks.py test   # environment, then the whole test suite
    python3.11 tasks.py test --fast   # the edit loop: the tests not marked slow (CI runs them all)
    python3.11 tasks.py docs   # the docs site in site/ (offline; any warning or broken link fails)

Both create (or reuse) the virtual environment ``.venv`` beside this file and
install the package with its test dependencies into it. Nothing else on the
machine is changed. Extra arguments after ``test`` go to pytest.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / "python"
STAMP = VENV / ".vga-installed"
SAMPLE = ROOT / "data" / "sample"
DEMO_PERIOD = "2026Q3"


def say(text: str) -> None:
    print(f"[vga] {text}", flush=True)


def run(*args: str | Path, **kw) -> None:
    subprocess.run([str(a) for a in args], check=True, cwd=ROOT, **kw)


# Installed for the tests only, without their declared dependencies:
# lifelines is the second implementation that tests/test_survival.py checks
# Kaplan-Meier, log-rank and Cox against. lifelines 0.30.3 declares
# pandas<3.0, which would make pip downgrade pandas; its fitters work with
# pandas 3.1 (the test proves it on every run), so it is installed --no-deps
# with the two packages it needs that vga does not already bring.
TEST_ONLY = ["lifelines==0.30.3", "autograd==1.9.1", "autograd-gamma==0.5.0"]


def extras() -> list[str]:
    """The package's extras to install: always ``dev``, plus those named in
    ``VGA_EXTRAS`` (comma-separated, e.g. ``spark``; ``.ci/run`` sets it)."""
    named = [e.strip() for e in os.environ.get("VGA_EXTRAS", "").split(",") if e.strip()]
    return ["dev", *[e for e in named if e != "dev"]]


def ensure_environment() -> None:
    """Create .venv and install the package (editable) with its dev extras
    (and those of ``VGA_EXTRAS``).

    Reinstalls only when pyproject.toml or the extras changed since the last install.
    """
    if sys.version_info < (3, 11):
        sys.exit(f"vga needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + repr(TEST_ONLY).encode()
                            + repr(extras()).encode()).hexdigest()
    if PY.exists() and STAMP.exists() and STAMP.read_text() == wanted:
        return
    if not PY.exists():
        say(f"creating the environment in {VENV}")
        venv.EnvBuilder(with_pip=True).create(VENV)
    say("installing vga and its dependencies (first time only; a few minutes)")
    run(PY, "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    run(PY, "-m", "pip", "install", "--quiet", "-e", f".[{','.join(extras())}]")
    run(PY, "-m", "pip", "install", "--quiet", "--no-deps", *TEST_ONLY)
    run(PY, "-m", "ipykernel", "install", "--sys-prefix", "--name", "python3")
    STAMP.write_text(wanted)


def demo() -> None:
    ensure_environment()
    vga = BIN / "vga"
    say(f"writing sample data to {SAMPLE}")
    run(vga, "sample", "--out", SAMPLE, "--force")
    say(f"running the VGA series for {DEMO_PERIOD}")
    run(vga, "run", "--data", SAMPLE, "--period", DEMO_PERIOD, "--out", ROOT / "reports", "--force")


def test(extra: list[str]) -> None:
    ensure_environment()
    env = dict(os.environ, PYTHONHASHSEED="0")
    if "--fast" in extra:
        # The edit loop: every test but those marked slow (whole runs, notebooks, large data).
        extra = [a for a in extra if a != "--fast"] + ["-m", "not slow and not postgres and not spark"]
    # One worker per core (at most 4), each test file whole on one worker:
    # a file's fixtures (a Spark session, a sample run) are built once.
    # Pass -n 0 to run in this process (a debugger, -x, print output).
    chosen = any(a in ("-n", "--numprocesses") or a.startswith("--numprocesses=") or (a.startswith("-n") and a[2:].isdigit())
                 for a in extra)
    parallel = [] if chosen else [
        "-n", str(max(1, min(4, os.cpu_count() or 1))), "--dist", "loadfile"]
    # The 20 slowest tests close every run's output: where the suite's time goes (docs/analysts/tests.md).
    if not any(a.startswith("--durations") for a in extra):
        parallel += ["--durations=20"]
    result = subprocess.run([str(PY), "-m", "pytest", *parallel, *extra], cwd=ROOT, env=env)
    sys.exit(result.returncode)


def docs_command(extra: list[str]) -> list[str]:
    """The build command of the docs site (tests/test_docs.py runs it too)."""
    return [str(BIN / "mkdocs"), "build", "--strict", *extra]


def docs_environment() -> dict:
    # Material's notice about its successor is about the theme, not our site.
    return dict(os.environ, NO_MKDOCS_2_WARNING="1")


def docs(extra: list[str]) -> None:
    """Build the docs site with MkDocs into site/ (extra arguments go to
    ``mkdocs build``, e.g. ``-d DIR``). Strict: a warning, a broken link or
    anchor fails the build (mkdocs.yml)."""
    ensure_environment()
    result = subprocess.run(docs_command(extra), cwd=ROOT, env=docs_environment())
    if result.returncode == 0:
        say(f"docs site written; open {ROOT / 'site' / 'index.html'}" if not extra else "docs site written")
    sys.exit(result.returncode)


def main(argv: list[str]) -> None:
    if not argv or argv[0] not in {"demo", "test", "setup", "docs"}:
        sys.exit(__doc__)
    if argv[0] == "demo":
        demo()
    elif argv[0] == "docs":
        docs(argv[1:])
    elif argv[0] == "setup":
        ensure_environment()
    else:
        test(argv[1:])


if __name__ == "__main__":
    main(sys.argv[1:])
