"""Shared fixtures: sample folders and runs, made once per test session."""

from __future__ import annotations

import fcntl
import json
import os
import pickle
import shutil
from pathlib import Path

import pytest

from vga.run.runner import run_period
from vga.sample import write_sample

# What a run keeps in the user's own configuration folder (the --redact key)
# goes to a folder of the test session's, never to the home of whoever runs
# the suite; subprocesses inherit it.
if "VGA_TEST_CONFIG_HOME" not in os.environ:
    import tempfile

    os.environ["VGA_TEST_CONFIG_HOME"] = os.environ["XDG_CONFIG_HOME"] = tempfile.mkdtemp(prefix="vga-test-config-")

# A sample size set for quick try-outs would change every `vga sample` the tests run.
os.environ.pop("VGA_SAMPLE_ACCOUNTS", None)

#: The full-size sample: the size the planted effects are calibrated for.
FULL_ACCOUNTS = int(os.environ.get("VGA_TEST_ACCOUNTS", "1500"))


def shared(tmp_path_factory, name: str, build):
    """``build(folder)``'s result, made once per test session even when the
    suite runs on several workers (pytest-xdist, ``tasks.py test``): the
    first worker to ask builds it in a folder beside every worker's own
    temporary folder, under a lock; the others wait and reuse it. The
    result is a path or anything pickle keeps. Users must not change it."""
    if "PYTEST_XDIST_WORKER" not in os.environ:
        return build(tmp_path_factory.mktemp(name))
    root = tmp_path_factory.getbasetemp().parent  # one per session, shared by its workers
    done = root / f"{name}.pickle"
    with open(root / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if not done.exists():
            folder = root / name
            shutil.rmtree(folder, ignore_errors=True)  # a worker that failed half-way
            folder.mkdir()
            result = build(folder)
            partial = done.with_suffix(".partial")
            partial.write_bytes(pickle.dumps(result))
            partial.rename(done)
    return pickle.loads(done.read_bytes())


def _written_sample(folder: Path, **options) -> Path:
    write_sample(folder, **options)
    return folder


@pytest.fixture(scope="session")
def sample_dir(tmp_path_factory) -> Path:
    return shared(tmp_path_factory, "sample", lambda f: _written_sample(f, accounts=FULL_ACCOUNTS, seed=7))


@pytest.fixture(scope="session")
def truth(sample_dir) -> dict:
    return json.loads((sample_dir / "truth.json").read_text())


@pytest.fixture(scope="session")
def sample_run(sample_dir, tmp_path_factory) -> Path:
    """One full run of the series on the sample, for output checks."""
    return shared(tmp_path_factory, "reports", lambda out: run_period(sample_dir, "2026Q3", out=out, quiet=True))


@pytest.fixture(scope="session")
def minimal_dir(tmp_path_factory) -> Path:
    return shared(tmp_path_factory, "minimal", lambda f: _written_sample(f, accounts=240, seed=3, minimal=True))


@pytest.fixture(scope="session")
def minimal_run(minimal_dir, tmp_path_factory) -> Path:
    return shared(tmp_path_factory, "reports-minimal",
                  lambda out: run_period(minimal_dir, "2026Q3", out=out, quiet=True))


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
def sample_outputs(sample_dir, tmp_path_factory, request):
    """Every step's outputs on the sample, computed once (no notebooks)."""
    from vga.run import pipeline
    from vga.config import load_config
    from vga.periods import parse_period

    def compute(_folder):  # the sample as loaded only where it is computed here
        inputs = request.getfixturevalue("sample_inputs")
        return pipeline.compute(inputs, parse_period("2026Q3"), load_config(None, sample_dir))[0]

    return shared(tmp_path_factory, "outputs", compute)


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
    import socket

    with socket.socket() as free:  # a port of its own: each test worker may start a server
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    url = subprocess.run([str(script), "start", str(folder), str(port)], check=True, capture_output=True,
                         text=True).stdout.strip()
    try:
        yield url
    finally:
        subprocess.run([str(script), "stop", str(folder)], check=False)
        shutil.rmtree(folder, ignore_errors=True)


#: Markers of tests that take long: whole runs, servers (PostgreSQL, a Spark session started on Java).
LONG = ("slow", "spark", "postgres")


def pytest_collection_modifyitems(config, items):
    """Long tests first (a stable sort: files keep their order otherwise).
    On several workers each file goes whole to one worker in this order, so
    a long file begun last would keep the others idle at the end (the Spark
    tests, two and a half minutes on one worker, once ran last)."""
    items.sort(key=lambda item: not any(item.get_closest_marker(m) for m in LONG))


@pytest.fixture
def listener():
    """A TCP server on a loopback port that records every connection made to
    it: a test plants its address where a hostile data folder would (a
    warehouse URL, a mapping query, a notebook) and fails, at teardown, if
    anything connected."""
    import socket
    import threading

    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    server.settimeout(0.1)
    hits: list = []
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            try:
                conn, address = server.accept()
            except TimeoutError:
                continue
            except OSError:
                break
            hits.append(address)
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join(2)
    server.close()
    assert not hits, f"something connected to the planted listener {len(hits)} time(s)"
