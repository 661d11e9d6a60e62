"""Errors and warnings the toolkit raises on purpose.

Each carries a message written for the person who runs ``vga``: what was
wrong, where, and what to do. The command line prints the message without a
traceback.
"""


#: Every ``vga`` command's exit status: (code, when). The one table of them:
#: ``vga --help`` prints it and the docs site's command reference is made from it.
EXIT_CODES: tuple[tuple[int, str], ...] = (
    (0, "success (quarantined rows do not fail a command unless --strict)"),
    (1, "the data fails: --strict with quarantined rows or blanked cells, no accounts table, a file that cannot be "
        "read or lacks a required column, a step or notebook that fails on the data"),
    (2, "usage error: unknown option, malformed period, a --data, --config or --notebooks path that names nothing, "
        "a bad vga.toml, an existing period (or vga init) folder without --force, or a reports folder the run cannot "
        "write to (read-only, no permission, disk full, another run of the period holds it)"),
    (3, "vga run only: the data does not reach the period's as-of date (pass --allow-partial for a report that "
        "says what it cannot show)"),
    (130, "interrupted (Ctrl-C); earlier reports are untouched"),
    (143, "stopped by SIGTERM (a scheduler's timeout, kill); earlier reports are untouched"),
)


def exit_codes_markdown() -> str:
    """:data:`EXIT_CODES` as a Markdown table."""
    return "| exit status | when |\n|---|---|\n" + "".join(f"| {code} | {when} |\n" for code, when in EXIT_CODES)


class VgaError(Exception):
    """Base class: a failure with a message meant for the user."""

    exit_code = 1


class DataError(VgaError):
    """The data cannot be used: unreadable file, missing table or column,
    or (in strict mode) any quarantined row or blanked cell."""

    exit_code = 1


class UsageError(VgaError):
    """The command was called wrongly: bad period, bad option, an existing
    period folder without ``--force``, a bad configuration file."""

    exit_code = 2


class PartialPeriodError(VgaError):
    """The data does not reach the period's as-of date (past the coverage
    tolerance): a report would be mostly dashes. Refused unless
    ``--allow-partial``; a distinct exit code, so that a scheduler that runs
    a quarter before its data has landed can tell it from bad data."""

    exit_code = 3


class OutputError(VgaError):
    """The run cannot write where it was told to: the reports folder is
    read-only, not writable for this user or full, or another run of the
    same period is writing there. Nothing about the data is wrong; the
    command (``--out``) or the machine needs a change, hence exit 2."""

    exit_code = 2


#: What a failed write means, by errno: (what happened, what to do).
WRITE_FAULTS = {
    "EROFS": ("the file system is read-only",
              "pass --out with a folder you can write to, or have the file system mounted read-write"),
    "EACCES": ("permission denied for this user",
               "pass --out with a folder you can write to, or ask the folder's owner for write access"),
    "EPERM": ("the operation is not permitted for this user",
              "pass --out with a folder you can write to, or ask the folder's owner for write access"),
    "ENOSPC": ("no space left on the device",
               "free some space there, or pass --out with a folder on another disk, then run again"),
    "EDQUOT": ("the disk quota is used up",
               "free some space there, or pass --out with a folder on another disk, then run again"),
    "EFBIG": ("a file would grow past the file size limit (ulimit -f)",
              "raise the limit, or pass --out with a folder on another disk, then run again"),
}


def write_fault(exc: BaseException, folder, *, after: str = "") -> OutputError | None:
    """The :class:`OutputError` for ``exc`` when it is a failed write under
    ``folder`` (read-only, no permission, disk or quota full, file too
    large), else None.

    An :class:`OSError` counts when it names no file or a file under
    ``folder`` (a read error elsewhere is not a write fault); other errors
    raised over a failed write (DuckDB's, a notebook's) count when their
    text carries the system's words for a full or read-only disk. The
    message names ``folder``, says what happened and what to do; ``after``
    is appended (e.g. "earlier reports are untouched")."""
    import errno
    import os
    import shutil
    from pathlib import Path

    codes = {getattr(errno, name): name for name in WRITE_FAULTS if hasattr(errno, name)}
    folder = Path(folder)
    where = folder
    found = None
    seen, todo = set(), [exc]
    while todo and found is None:
        e = todo.pop(0)
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        if isinstance(e, DataError):
            pass  # about the data, never about where the run writes
        elif isinstance(e, OSError) and e.errno is not None:
            name = None if e.filename is None else Path(os.fsdecode(e.filename))
            if e.errno in codes and (name is None or _under(name, folder) or _under(folder, name)):
                found = codes[e.errno]
                if name is not None and _under(folder, name):
                    where = name  # a folder above it could not be made
        else:
            text = str(e)
            for code in (errno.ENOSPC, getattr(errno, "EDQUOT", None), errno.EFBIG, errno.EROFS):
                if code in codes and os.strerror(code) in text:
                    found = codes[code]
                    break
        todo += [e.__cause__, e.__context__]
    if found is None:
        return None
    what, todo_text = WRITE_FAULTS[found]
    if found in ("ENOSPC", "EDQUOT"):
        existing = where
        while not existing.exists() and existing != existing.parent:
            existing = existing.parent
        try:
            what += f" ({shutil.disk_usage(existing).free / 1e6:,.1f} MB free there now)"
        except OSError:
            pass
    return OutputError(f"cannot write to {where}: {what}; {todo_text}" + (f"; {after}" if after else ""))


def _under(path, folder) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
        return True
    except ValueError:
        return False
