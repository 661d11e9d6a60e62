"""Faults, with the real command line in a subprocess: a run stopped at any
moment (kill -9, Ctrl-C, SIGTERM) while it loads, while a notebook runs and
while the report is rendered; two runs of one period at once; a read-only,
unwritable or full reports folder. Each time the earlier report must come
out byte for byte as it was, the failure must say one line (no traceback),
and the next run must work.

The OS mechanisms (the tests run as root here and in CI, where ``chmod``
alone stops nobody):

* read-only: a read-only bind mount of the reports folder in a private
  mount namespace of the run (``unshare --mount``; ``--user --map-root-user``
  when not root), so the run gets a real EROFS;
* no permission: the run as the unprivileged user ``nobody``
  (``setpriv``) on a folder owned by root (as a plain user: ``chmod 555``),
  a real EACCES;
* full disk: a small tmpfs mounted on the reports folder and filled up to a
  chosen headroom, a real ENOSPC; and a file size limit (``RLIMIT_FSIZE``,
  SIGXFSZ ignored), a real EFBIG, which any user can set.

A test skips, saying why, only where the machine cannot give the mechanism.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from vga.present import chapters
from vga.run import folder as run_folder
from vga.run import runner
from vga.errors import DataError, OutputError, VgaError, write_fault
from vga.sample import write_sample

pytestmark = pytest.mark.slow

PERIOD = "2026Q3"
ROOT = Path(__file__).resolve().parents[1]
INTERRUPTED = "vga: interrupted; earlier reports are untouched"
TERMINATED = "vga: stopped by SIGTERM; earlier reports are untouched"


# --------------------------------------------------------------------------
# Helpers: the command line in its own process group, watched line by line.


def _entries(out: Path) -> list[str]:
    """What a reports folder holds, beside the incremental store every run keeps there."""
    return sorted(p.name for p in out.iterdir() if p.name not in (runner.STORE_DIR, runner.CACHE_DIR))


class Cli:
    """``vga run`` in a subprocess, in its own session (a terminal's Ctrl-C
    goes to the whole foreground process group: ``killpg``), stdout read
    line by line as it comes, stderr to a file (never a full pipe)."""

    def __init__(self, data, out, *extra, prefix=(), env=None, preexec_fn=None):
        self.out = Path(out)
        self.err = tempfile.TemporaryFile("w+")
        cmd = [*prefix, sys.executable, "-m", "vga", "run", "--data", str(data), "--period", PERIOD,
               "--out", str(out), *extra]
        self.started = time.monotonic()

        def as_from_a_terminal():
            # A run started from a terminal takes Ctrl-C. A suite started in the
            # background (`cmd &` in a script) hands its children SIGINT ignored,
            # and Python then installs no KeyboardInterrupt: the run would
            # never see the signal this test sends.
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            if preexec_fn is not None:
                preexec_fn()

        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self.err, text=True, cwd=ROOT,
                                     start_new_session=True, env=env, preexec_fn=as_from_a_terminal)
        self.pid = self.proc.pid
        self.lines: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.watchdog = threading.Timer(240, self._kill)  # a hung run fails the test, never hangs it
        self.watchdog.daemon = True
        self.watchdog.start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))
        self.proc.wait()
        self.ended = time.monotonic()  # when it ended, not when a test looked

    def _kill(self):
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    @property
    def partial(self) -> Path:
        return self.out / f".{PERIOD}.{self.pid}.partial"

    def saw(self, text: str) -> bool:
        return any(text in line for line in list(self.lines))

    def wait_until(self, condition, what: str) -> None:
        while not condition():
            if self.proc.poll() is not None:
                self.reader.join(5)
                if condition():
                    break
                pytest.fail(f"the run ended (exit {self.proc.returncode}) before {what}:\n" + self.output())
            time.sleep(0.005)

    def signal(self, sig) -> None:
        os.killpg(self.pid, sig)
        self.signalled = time.monotonic()

    def finish(self, timeout=180) -> int:
        try:
            self.proc.wait(timeout)
        finally:
            self.watchdog.cancel()
        self.reader.join(10)
        return self.proc.returncode

    @property
    def stdout(self) -> str:
        return "\n".join(self.lines)

    @property
    def stderr(self) -> str:
        self.err.seek(0)
        return self.err.read()

    def output(self) -> str:
        return f"--- stdout\n{self.stdout}\n--- stderr\n{self.stderr}"

    def one_line_error(self) -> str:
        """The run's whole stderr, which must be one line without a traceback."""
        lines = self.stderr.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in self.stderr, self.output()
        return lines[0]


def snapshot(folder: Path) -> dict:
    """Every file (sha256) and folder under ``folder``, by relative path."""
    found = {}
    for path in sorted(folder.rglob("*")):
        rel = str(path.relative_to(folder))
        found[rel] = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "dir"
    assert any(v != "dir" for v in found.values()), f"{folder} holds no files"
    return found


def kernels_of(pid: int) -> list[int]:
    """Live notebook kernels started by process ``pid`` (Jupyter puts the
    parent's pid in each kernel's environment)."""
    mark = f"JPY_PARENT_PID={pid}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if mark in (entry / "environ").read_bytes().split(b"\0"):
                found.append(int(entry.name))
        except OSError:
            pass
    return found


def no_kernel_outlives(pid: int, seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while kernels_of(pid):
        if time.monotonic() > deadline:
            pytest.fail(f"kernels {kernels_of(pid)} of the stopped run {pid} still run after {seconds} s")
        time.sleep(0.2)


def leftovers(out: Path) -> list[str]:
    return sorted(p.name for p in out.iterdir() if p.name.startswith(f".{PERIOD}."))


def copy_report(report: Path, out: Path) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    shutil.copytree(report, out / PERIOD)
    return snapshot(out / PERIOD)


# --------------------------------------------------------------------------
# Data and a first report.


@pytest.fixture(scope="module")
def minimal(tmp_path_factory) -> Path:
    """The fastest data that still goes through every phase (two tables)."""
    folder = tmp_path_factory.mktemp("faults-minimal")
    write_sample(folder, accounts=60, seed=1, minimal=True)  # seed 1: csm_actions.xlsx is the first file over 8 KB
    return folder


@pytest.fixture(scope="module")
def full(tmp_path_factory) -> Path:
    """Every table: loading lasts long enough (about a second) to be hit."""
    folder = tmp_path_factory.mktemp("faults-full")
    write_sample(folder, accounts=60, seed=2)
    return folder


@pytest.fixture(scope="module")
def report(minimal_run) -> Path:
    """The earlier report: the session's run of the minimal sample (conftest),
    only ever copied."""
    return minimal_run


# --------------------------------------------------------------------------
# Runs stopped at any moment. In each phase the runs stopped by different
# signals run side by side (each in its own reports folder: two cores are
# better used so); each signal keeps one folder for all phases, so that what
# a killed run leaves behind meets the next runs there.

PHASES = {
    # phase: (data fixture, trigger, what proves the run was stopped in that phase)
    "loading": ("full", lambda run: run.saw("[vga] loading"), lambda run: not run.saw("[vga] computed")),
    # Papermill writes a notebook when it starts running it.
    "notebook": ("minimal", lambda run: any(run.partial.glob("notebooks/*.ipynb")),
                 lambda run: not run.saw("[11/11]")),
    # The last notebook is done: the report is being rendered.
    "report": ("minimal", lambda run: run.saw("[11/11] presented"), lambda run: not run.saw("report written")),
}
SIGNALS = {"loading": ["SIGKILL", "SIGINT", "SIGTERM"], "notebook": ["SIGKILL", "SIGINT"],
           "report": ["SIGKILL", "SIGINT"]}


@pytest.fixture(scope="module")
def stopped(report, tmp_path_factory) -> dict:
    """Per signal, a reports folder holding a copy of the first report, and its snapshot."""
    folders = {}
    for sig in ("SIGKILL", "SIGINT", "SIGTERM"):
        out = tmp_path_factory.mktemp(f"faults-{sig}") / "reports"
        folders[sig] = (out, copy_report(report, out))
    return folders


def stop_runs(data: Path, phase: str, outs: dict) -> dict:
    """Start one run per signal into its folder, and send each its signal
    (to the whole process group) the moment it is in ``phase``."""
    _, trigger, in_phase = PHASES[phase]
    runs = {sig: Cli(data, out, "--force") for sig, out in outs.items()}

    def stop(sig, run):
        run.wait_until(lambda: trigger(run), f"the {phase} phase")
        run.kernels = kernels_of(run.pid)
        run.signal(getattr(signal, sig))
        run.finish(timeout=60)

    with ThreadPoolExecutor(len(runs)) as pool:
        for future in [pool.submit(stop, sig, run) for sig, run in runs.items()]:
            future.result()
    for sig, run in runs.items():
        assert in_phase(run), f"{sig}: the run got past the {phase} phase before the signal:\n" + run.output()
    return runs


@pytest.mark.parametrize("phase", PHASES)
def test_a_run_stopped_at_any_moment_leaves_the_earlier_report(stopped, phase, request):
    data = request.getfixturevalue(PHASES[phase][0])
    runs = stop_runs(data, phase, {sig: stopped[sig][0] for sig in SIGNALS[phase]})
    for sig, run in runs.items():
        out, before = stopped[sig]
        assert snapshot(out / PERIOD) == before, f"{sig}: the earlier report changed"
        lock = out / f".{PERIOD}.lock"
        if sig == "SIGKILL":
            assert run.proc.returncode == -signal.SIGKILL
            # Killed: its partial folder and lock file stay behind; the lock
            # is free at once (the kernel dropped it): it blocks no later run.
            assert run.partial.is_dir() and f"pid {run.pid} " in lock.read_text()
            fd = os.open(lock, os.O_RDWR)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            finally:
                os.close(fd)
        else:
            # Ctrl-C (to the whole process group) or SIGTERM: one line, the
            # conventional exit code, soon, and the run cleans up after itself.
            expected, code = (INTERRUPTED, 130) if sig == "SIGINT" else (TERMINATED, 143)
            assert run.proc.returncode == code, run.output()
            assert run.one_line_error() == expected
            assert run.ended - run.signalled < 30
            assert leftovers(out) == [], f"{sig}: the stopped run left {leftovers(out)}"
    for run in runs.values():
        # Notebook kernels ran when the signal came (the check below sees
        # them); none outlives the run, killed or not.
        assert run.kernels or phase == "loading"
        no_kernel_outlives(run.pid)


# --------------------------------------------------------------------------
# Two runs at once, after the killed runs: the folder holds their leftovers.


@pytest.fixture(scope="module")
def at_once(stopped, full, minimal):
    """Two runs of one period, started at the same moment, into the folder
    where the runs above were killed (their partial folders and stale lock
    still there)."""
    out, before = stopped["SIGKILL"]
    if not any(p.name.endswith(".partial") for p in out.iterdir()):  # run on its own: make some leftovers
        stop_runs(full, "loading", {"SIGKILL": out})
    stale = leftovers(out)
    runs = [Cli(minimal, out, "--force"), Cli(minimal, out, "--force")]
    for run in runs:
        run.finish()
    return out, before, stale, runs


def test_two_runs_of_one_period_at_once_leave_one_complete_report(at_once):
    out, before, _, runs = at_once
    codes = sorted(r.proc.returncode for r in runs)
    assert codes == [0, 2], "\n".join(r.output() for r in runs)
    winner = next(r for r in runs if r.proc.returncode == 0)
    loser = next(r for r in runs if r.proc.returncode == 2)
    message = loser.one_line_error()
    assert re.fullmatch(
        rf"vga: another run of {PERIOD} is writing to {re.escape(str(out))} \(pid {winner.pid} on host "
        rf"{re.escape(socket.gethostname())}, started \d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d UTC\); "
        r"wait for it to finish, or pass --out to write elsewhere", message), message
    # It refused at once, without loading anything, while the other worked on.
    assert not loser.saw("[vga] loading") and loser.ended - loser.started < (winner.ended - winner.started) / 2
    # The one report is the winner's, complete and valid.
    final = out / PERIOD
    manifest = json.loads((final / "manifest.json").read_text())
    assert manifest["period"]["period"] == PERIOD and manifest["parameters"]["force"] is True
    assert sorted(p.stem for p in (final / "notebooks").glob("*.ipynb")) == sorted(c.notebook for c in chapters().values())
    page = (final / "report.html").read_text()
    assert page.rstrip().endswith("</html>") and "Value gap analysis: 2026Q3" in page
    assert snapshot(final) != before


def test_a_rerun_after_killed_runs_succeeds_and_clears_what_they_left(at_once):
    out, _, stale, runs = at_once
    winner = next((r for r in runs if r.proc.returncode == 0), None)
    assert winner, "\n".join(r.output() for r in runs)
    partials = [name for name in stale if name.endswith(".partial")]
    assert partials and f".{PERIOD}.lock" in stale  # what the killed runs left
    assert winner.saw(f"[vga] removed {len(partials)} folder(s) left by earlier stopped or failed runs of {PERIOD}: "
                      + ", ".join(partials)), winner.output()
    assert _entries(out) == [PERIOD], "partial runs or the lock were left behind"


# --------------------------------------------------------------------------
# Read-only and unwritable reports folders.


def _read_only_prefix(folder: Path) -> list[str]:
    """A command prefix that runs the rest with ``folder`` mounted read-only
    in a private mount namespace; skips when the system cannot."""
    if not shutil.which("unshare"):
        pytest.skip("no unshare(1) here to make a read-only mount")
    ns = ["unshare", "--mount", "--propagation", "private"]
    if os.geteuid() != 0:
        ns[1:1] = ["--user", "--map-root-user"]
    script = 'mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" && exec "$@"'
    prefix = [*ns, "sh", "-c", script, str(folder)]
    probe = subprocess.run([*prefix, "sh", "-c", 'touch "$0"/probe', str(folder)], capture_output=True, text=True)
    if "Read-only file system" not in probe.stderr:
        pytest.skip(f"this machine cannot make a read-only bind mount (unshare/mount: {probe.stderr.strip()!r})")
    return prefix


def test_a_read_only_reports_folder_says_so_in_one_line(report, minimal, tmp_path):
    """Mechanism: a read-only bind mount in the run's own mount namespace (EROFS)."""
    out = tmp_path / "reports"
    before = copy_report(report, out)
    run = Cli(minimal, out, "--force", prefix=_read_only_prefix(out))
    assert run.finish() == 2, run.output()
    assert run.one_line_error() == (
        f"vga: cannot write to {out}: the file system is read-only; pass --out with a folder you can write to, "
        "or have the file system mounted read-write; earlier reports are untouched")
    assert snapshot(out / PERIOD) == before and _entries(out) == [PERIOD]
    # A folder still to be made, under a read-only one: named where it fails.
    run = Cli(minimal, out / "new" / "reports", prefix=_read_only_prefix(out))
    assert run.finish() == 2, run.output()
    assert run.one_line_error().startswith(f"vga: cannot write to {out / 'new'}: the file system is read-only; ")


def test_a_reports_folder_this_user_cannot_write_says_so_in_one_line(report, minimal):
    """Mechanism: as root, the run as ``nobody`` (setpriv) on a folder owned
    by root; as a plain user, ``chmod 555``. Either way a real EACCES."""
    base = Path(tempfile.mkdtemp(prefix="vga-faults-", dir="/tmp"))  # not pytest's private tmp: nobody must read the data
    try:
        base.chmod(0o755)
        data = base / "data"
        shutil.copytree(minimal, data)
        for path in [data, *data.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)
        out = base / "reports"
        before = copy_report(report, out)
        prefix = []
        if os.geteuid() == 0:
            if not shutil.which("setpriv"):
                pytest.skip("no setpriv(1) here to run as an unprivileged user")
            prefix = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
            probe = subprocess.run([*prefix, sys.executable, "-c", "import vga"], capture_output=True, text=True,
                                   cwd=ROOT)
            if probe.returncode:
                pytest.skip(f"user nobody cannot run this Python and vga: {probe.stderr.strip()[-200:]!r}")
        else:
            out.chmod(0o555)
        run = Cli(data, out, "--force", prefix=prefix, env=os.environ | {"HOME": str(base)})
        code = run.finish()
        out.chmod(0o755)
        assert code == 2, run.output()
        assert run.one_line_error() == (
            f"vga: cannot write to {out}: permission denied for this user; pass --out with a folder you can write "
            "to, or ask the folder's owner for write access; earlier reports are untouched")
        assert snapshot(out / PERIOD) == before and _entries(out) == [PERIOD]
    finally:
        shutil.rmtree(base, ignore_errors=True)


# --------------------------------------------------------------------------
# A full disk.


@pytest.fixture()
def small_disk(tmp_path):
    """A tmpfs of its own mounted on ``tmp_path/reports`` (needs root)."""
    out = tmp_path / "reports"
    out.mkdir()
    if not shutil.which("mount"):
        pytest.skip("no mount(8) here to make a small tmpfs")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m,mode=755", "tmpfs", str(out)],
                             capture_output=True, text=True)
    if mounted.returncode:
        pytest.skip(f"cannot mount a small tmpfs here (needs root): {mounted.stderr.strip()!r}; "
                    "the file size limit test covers a full disk's message")
    try:
        yield out
    finally:
        subprocess.run(["umount", "-l", str(out)], check=False)


@pytest.mark.parametrize("headroom_kb, where", [(0, "at once"), (60, "mid-run")])
def test_a_full_disk_says_so_in_one_line_and_leaves_the_earlier_report(report, minimal, small_disk, headroom_kb,
                                                                      where):
    """Mechanism: a tmpfs filled up to ``headroom_kb`` (ENOSPC): with none
    left the run fails on its first write, with some it fails mid-run."""
    out = small_disk
    before = copy_report(report, out)
    stat = os.statvfs(out)
    left = stat.f_bavail * stat.f_frsize - headroom_kb * 1024
    with open(out / "filler", "wb", buffering=0) as fh:
        try:
            while left > 0:
                left -= fh.write(b"\0" * min(left, 1 << 20))
        except OSError as exc:
            assert exc.errno == errno.ENOSPC and headroom_kb == 0
    run = Cli(minimal, out, "--force")
    assert run.finish() == 2, run.output()
    message = run.one_line_error()
    assert re.fullmatch(
        rf"vga: cannot write to {re.escape(str(out))}: no space left on the device \([\d.,]+ MB free there now\); "
        r"free some space there, or pass --out with a folder on another disk, then run again; "
        r"earlier reports are untouched", message), message
    assert run.saw("[vga] loading") == (where == "mid-run"), run.output()
    assert snapshot(out / PERIOD) == before
    assert _entries(out) == [PERIOD, "filler"], "the partial run or the lock was left"


def test_a_file_size_limit_says_so_in_one_line_and_leaves_the_earlier_report(report, minimal, tmp_path):
    """Mechanism: RLIMIT_FSIZE of 8 KB on the run, SIGXFSZ ignored (EFBIG):
    the run fails mid-run when it writes its first larger file (the
    spreadsheet of CSM actions, whose half-written zip file must not add
    "Exception ignored" noise when it is collected at exit)."""

    def limit():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (8 * 1024, 8 * 1024))

    out = tmp_path / "reports"
    before = copy_report(report, out)
    run = Cli(minimal, out, "--force", preexec_fn=limit)
    assert run.finish() == 2, run.output()
    assert run.one_line_error() == (
        f"vga: cannot write to {out}: a file would grow past the file size limit (ulimit -f); raise the limit, "
        "or pass --out with a folder on another disk, then run again; earlier reports are untouched")
    assert run.saw("[vga] loading"), run.output()
    assert snapshot(out / PERIOD) == before and _entries(out) == [PERIOD]


# --------------------------------------------------------------------------
# The pieces, in process (fast): errno to message, the atomic swap, and what
# the next run does with a report a killed run was replacing.


@pytest.mark.parametrize("exc, says", [
    (OSError(errno.ENOSPC, "No space left on device"), "no space left on the device"),
    (OSError(errno.EDQUOT, "Disk quota exceeded"), "the disk quota is used up"),
    (OSError(errno.EFBIG, "File too large"), "a file would grow past the file size limit"),
    (OSError(errno.EROFS, "Read-only file system", "{out}/.2026Q3.lock"), "the file system is read-only"),
    (OSError(errno.EACCES, "Permission denied", "{out}/x"), "permission denied for this user"),
    (OSError(errno.EPERM, "Operation not permitted", "{out}/x"), "the operation is not permitted"),
    # Raised over a failed write by DuckDB, or by a notebook's kernel:
    (RuntimeError("IO Error: Could not write file: No space left on device"), "no space left on the device"),
    (VgaError("notebook 07 failed in cell 3: OSError: [Errno 30] Read-only file system: 'x'"), "read-only"),
    # Not faults of the reports folder:
    (OSError(errno.EACCES, "Permission denied", "/elsewhere/data.csv"), None),
    (DataError("accounts.csv: cannot be read (OSError: No space left on device)"), None),
    (OSError(errno.ENOENT, "No such file or directory"), None),
    (ValueError("Permission denied"), None),
])
def test_write_faults_become_one_message_naming_the_folder(tmp_path, exc, says):
    if isinstance(exc, OSError) and exc.filename:
        exc.filename = exc.filename.format(out=tmp_path)
    fault = write_fault(exc, tmp_path, after="earlier reports are untouched")
    if says is None:
        assert fault is None
        return
    assert isinstance(fault, OutputError) and fault.exit_code == 2
    assert str(fault).startswith(f"cannot write to {tmp_path}: ") and says in str(fault)
    assert "pass --out" in str(fault) and str(fault).endswith("; earlier reports are untouched")
    chained = ValueError("while writing")
    chained.__cause__ = exc
    assert str(write_fault(chained, tmp_path)) == str(write_fault(exc, tmp_path))


def test_the_new_run_takes_the_place_of_the_old_in_one_atomic_swap(tmp_path, monkeypatch):
    new, final = tmp_path / ".P.1.partial", tmp_path / "P"
    for folder, text in ((new, "new"), (final, "old")):
        folder.mkdir()
        (folder / "report.html").write_text(text)
    swaps = []
    real = run_folder.exchange
    monkeypatch.setattr(run_folder, "exchange", lambda a, b: swaps.append((a, b, real(a, b))) or swaps[-1][2])
    monkeypatch.setattr(Path, "rename", lambda *a: pytest.fail("renamed, not swapped"))
    run_folder.move_into_place(new, final)
    assert swaps == [(new, final, True)] and (final / "report.html").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["P"]


def test_a_report_a_killed_run_was_replacing_is_put_back(tmp_path, monkeypatch, capsys):
    """Where no atomic swap exists the old folder is renamed aside first; a
    run killed right then leaves no period folder, and the next run puts the
    old one back (and removes partial runs)."""
    final = tmp_path / PERIOD
    final.mkdir()
    (final / "report.html").write_text("old")
    new = tmp_path / f".{PERIOD}.1.partial"
    new.mkdir()
    monkeypatch.setattr(run_folder, "exchange", lambda a, b: False)
    monkeypatch.setattr(Path, "rename", _dies_on_second_rename(Path.rename))
    with pytest.raises(KeyboardInterrupt):
        run_folder.move_into_place(new, final)
    monkeypatch.undo()
    assert not final.exists() and leftovers(tmp_path) == [f".{PERIOD}.1.partial", f".{PERIOD}.old-{os.getpid()}"]
    run_folder.clear_leftovers(tmp_path, PERIOD, quiet=False)
    assert (final / "report.html").read_text() == "old" and leftovers(tmp_path) == []
    assert "put back" in capsys.readouterr().out


def _dies_on_second_rename(rename):
    calls = []

    def patched(self, target):
        calls.append(self)
        if len(calls) == 2:
            raise KeyboardInterrupt  # the run is stopped between the two renames
        return rename(self, target)

    return patched


def test_a_half_written_file_failing_again_at_exit_adds_no_noise(monkeypatch, capsys):
    """After a write fault the command line hides the same error raised
    again by a half-written file's ``__del__`` (a zip file, say), and only it."""
    from vga import cli

    monkeypatch.setattr(sys, "unraisablehook", sys.__unraisablehook__)
    cli._quiet_failed_writes()

    class HalfWritten:
        def __init__(self, exc):
            self.exc = exc

        def __del__(self):
            raise self.exc

    HalfWritten(OSError(errno.EFBIG, "File too large"))
    HalfWritten(OSError(errno.ENOSPC, "No space left on device"))
    assert capsys.readouterr().err == ""
    HalfWritten(ValueError("a real bug"))
    assert "a real bug" in capsys.readouterr().err
