"""Errors and warnings the toolkit raises on purpose.

Each carries a message written for the person who runs ``vga``: what was
wrong, where, and what to do. The command line prints the message without a
traceback.
"""


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


class StatisticalCaveat(UserWarning):
    """A figure was computed but should be read with care (tiny groups,
    no variation, and the like)."""
