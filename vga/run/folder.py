"""The period folder and the reports folder's shared parts, safe against
concurrent, killed and failed runs.

- :func:`take_lock`: a run holds ``<out>/.<period>.lock`` (``flock``) from
  before it loads until it is done; a second run of the period refuses at
  once, naming the pid and host that hold it. The kernel drops the lock of
  a killed run.
- :func:`move_into_place`: the run is written to ``<out>/.<period>.<pid>.partial``
  and swapped with the period folder in one atomic rename (Linux
  ``renameat2(RENAME_EXCHANGE)``), so a run stopped at any moment leaves the
  earlier report as it was; :func:`clear_leftovers` removes what a killed
  run left behind.
- :func:`open_store`: the incremental store ``<out>/.vga-store``, held by
  one run at a time (runs of other periods into the same folder wait).
"""

from __future__ import annotations

import errno
import os
import shutil
import socket
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from ..errors import OutputError
from .progress import say as _say


#: The incremental store, beside the period folders of a reports folder.
STORE_DIR = ".vga-store"


def open_store(out: Path, rebuild: bool, quiet: bool):
    """The reports folder's incremental store and its lock (pass it to
    :func:`release_store`): held for this run, runs of other periods into
    the same folder wait for it; emptied first with ``rebuild``."""
    from ..load.store import EventStore

    root = out / STORE_DIR
    root.mkdir(exist_ok=True, mode=0o700)
    fd = _hold_store(root, quiet)
    if rebuild:
        for child in root.iterdir():
            if child.name != "lock":
                shutil.rmtree(child) if child.is_dir() else child.unlink()
        _say("[vga] --rebuild: the incremental store was emptied; every event file is validated and every "
             "month aggregated again", quiet)
    return EventStore(root), fd


def _hold_store(root: Path, quiet: bool) -> int | None:
    """An exclusive ``flock`` on the store, held until :func:`release_store`
    (or the process ends); None where the system has no ``flock``."""
    try:
        import fcntl
    except ImportError:
        return None
    fd = os.open(root / "lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        _say(f"[vga] waiting for the incremental store {root}: another run of this reports folder is using it", quiet)
        fcntl.flock(fd, fcntl.LOCK_EX)
    return fd


def release_store(fd: int | None) -> None:
    """Let go of the store (:func:`open_store`'s lock)."""
    if fd is not None:
        os.close(fd)




def move_into_place(tmp: Path, final: Path) -> None:
    """Replace ``final`` with ``tmp`` so that a reader never sees half a run,
    nor a moment without a report: both folders are swapped in one atomic
    rename where the system can (Linux ``renameat2(RENAME_EXCHANGE)``).
    Elsewhere the old folder is first renamed aside; a run killed between
    the two renames leaves it there, and the next run puts it back."""
    if final.exists() and exchange(tmp, final):
        shutil.rmtree(tmp, ignore_errors=True)  # now the old run; if killed here, the next run removes it
        return
    old = None
    if final.exists():
        old = final.with_name(f".{final.name}.old-{os.getpid()}")
        final.rename(old)
    tmp.rename(final)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def exchange(a: Path, b: Path) -> bool:
    """Swap two folders atomically; False when the system cannot."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    try:
        call = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    call.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    at_fdcwd, rename_exchange = -100, 2
    if call(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), str(b))


def take_lock(out: Path, label: str) -> tuple[int, Path] | None:
    """Hold ``out/.<label>.lock`` for this run, or refuse at once when
    another live run holds it. ``flock`` is dropped by the kernel when its
    holder dies, so a killed run never blocks the next one. The file names
    its holder (pid, host, start) for the refusal message and is removed
    when the run ends. (No ``fcntl``, as on Windows: no lock.)"""
    try:
        import fcntl
    except ImportError:
        return None

    path = out / f".{label}.lock"
    while True:
        writable = True
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)  # the umask decides, as for the report
        except PermissionError:
            writable = False
            try:  # a killed run of another user left it: a lock needs no write access
                fd = os.open(path, os.O_RDONLY)
            except FileNotFoundError:
                raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path)) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _lock_holder(fd)
            os.close(fd)
            raise OutputError(
                f"another run of {label} is writing to {out} ({holder}); wait for it to finish, "
                f"or pass --out to write elsewhere") from None
        except OSError as exc:
            os.close(fd)
            if exc.errno in (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOTSUP):
                raise OutputError(f"cannot lock {path}: the file system of {out} does not support file locks; "
                                  f"pass --out with a local folder") from None
            raise
        # The run that held it may have removed the file just before letting
        # go: then this lock is on a file nobody else sees; take the new one.
        try:
            held = os.fstat(fd)
            now = os.stat(path)
            if (held.st_dev, held.st_ino) == (now.st_dev, now.st_ino):
                break
        except FileNotFoundError:
            pass
        os.close(fd)
    try:
        if writable:
            stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"pid {os.getpid()} on host {socket.gethostname()}, started {stamp}\n".encode(), 0)
    except BaseException:
        release_lock((fd, path))
        raise
    return fd, path


def _lock_holder(fd: int) -> str:
    """Who holds a lock, as its holder wrote it (it may be writing it now)."""
    for _ in range(20):
        text = os.pread(fd, 300, 0).decode("utf-8", "replace").strip()
        if text:
            return text
        time.sleep(0.05)
    return "holder unknown"


def release_lock(lock: tuple[int, Path]) -> None:
    fd, path = lock
    try:
        path.unlink()  # while still held: a run that opened it now sees it gone and takes a new one
    except OSError:
        pass
    os.close(fd)


def clear_leftovers(out: Path, label: str, quiet: bool) -> None:
    """Tidy what earlier runs of the period left when they were killed or
    failed (this run holds the lock, so none of them is still running): put
    back a period folder a run was killed while replacing, then remove
    partial runs and old folders."""
    final = out / label
    olds = sorted(out.glob(f".{label}.old-*"), key=lambda p: p.stat().st_mtime)
    if olds and not final.exists():
        back = olds.pop()
        back.rename(final)
        _say(f"[vga] put back {final}: a run was stopped while replacing it", quiet)
    stale = olds + sorted(out.glob(f".{label}.*.partial"))
    for folder in stale:
        shutil.rmtree(folder, ignore_errors=True)
    if stale:
        _say(f"[vga] removed {len(stale)} folder(s) left by earlier stopped or failed runs of {label}: "
             + ", ".join(f.name for f in stale), quiet)
