"""Shared fixtures: sample folders and runs, made once per test session."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from vga.runner import run_period
from vga.sample import write_sample

#: The full-size sample: the size the planted effects are calibrated for.
FULL_ACCOUNTS = int(os.environ.get("VGA_TEST_ACCOUNTS", "1500"))


@pytest.fixture(scope="session")
def sample_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("sample")
    write_sample(folder, accounts=FULL_ACCOUNTS, seed=7)
    return folder


@pytest.fixture(scope="session")
def truth(sample_dir) -> dict:
    return json.loads((sample_dir / "truth.json").read_text())


@pytest.fixture(scope="session")
def sample_run(sample_dir, tmp_path_factory) -> Path:
    """One full run of the series on the sample, for output checks."""
    out = tmp_path_factory.mktemp("reports")
    return run_period(sample_dir, "2026Q3", out=out, quiet=True)


@pytest.fixture(scope="session")
def minimal_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("minimal")
    write_sample(folder, accounts=240, seed=3, minimal=True)
    return folder


@pytest.fixture(scope="session")
def minimal_run(minimal_dir, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("reports-minimal")
    return run_period(minimal_dir, "2026Q3", out=out, quiet=True)


@pytest.fixture(scope="session")
def sample_data(sample_dir):
    """The sample as loaded (the loader's view: tables, quarantine, facts)."""
    from vga.load import load_folder

    return load_folder(sample_dir)


@pytest.fixture(scope="session")
def sample_inputs(sample_data):
    """The sample as the steps see it."""
    from vga.load import to_inputs

    return to_inputs(sample_data)


@pytest.fixture(scope="session")
def sample_outputs(sample_dir, sample_inputs):
    """Every step's outputs on the sample, computed once (no notebooks)."""
    from vga import pipeline
    from vga.config import load_config
    from vga.periods import parse_period

    outputs, _ = pipeline.compute(sample_inputs, parse_period("2026Q3"), load_config(None, sample_dir))
    return outputs


@pytest.fixture(scope="session")
def postgres_url(tmp_path_factory):
    """A PostgreSQL server: the one .ci/run started (VGA_TEST_POSTGRES_URL),
    else a throwaway one started here when the server is installed. Under CI
    a missing server is a failure, never a skip."""
    import shutil
    import subprocess

    url = os.environ.get("VGA_TEST_POSTGRES_URL")
    if url:
        yield url
        return
    script = Path(__file__).resolve().parents[1] / "scripts" / "postgres.sh"
    have_server = any(Path("/usr/lib/postgresql").glob("*/bin/postgres")) if Path("/usr/lib/postgresql").exists() else False
    if not have_server or os.geteuid() != 0 or not shutil.which("runuser"):
        if os.environ.get("CI"):
            pytest.fail("CI must provide PostgreSQL: .ci/run sets VGA_TEST_POSTGRES_URL")
        pytest.skip("no PostgreSQL server here; .ci/run provides one")
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="vga-pg-", dir="/tmp"))  # reachable by the postgres user
    url = subprocess.run([str(script), "start", str(folder), "55433"], check=True, capture_output=True, text=True).stdout.strip()
    try:
        yield url
    finally:
        subprocess.run([str(script), "stop", str(folder)], check=False)
        shutil.rmtree(folder, ignore_errors=True)
