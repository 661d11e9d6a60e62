"""Every reason the loader gives, in one place, for pandas and SQL alike.

A reason has a *kind* (what rule was broken, without values: used to group
and count) and a *text* (the kind with the row's own values: written to the
quarantine and shown as the example of its kind). Personal columns are never
shown: their values read :data:`~vga.contract.REDACTED`.

The checks on files (pandas), on event files (DuckDB SQL) and on warehouse
events (Ibis) all build their reasons from these templates, so one rule reads
the same wherever it was checked.
"""

from __future__ import annotations

from ..contract import REDACTED, Column

#: ISO 8601 date or timestamp, with an optional offset (the contract's shape).
ISO_PATTERN = r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?)?\s*(Z|z|[+-]\d{2}(:?\d{2})?)?"
NUMBER_PATTERN = r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?"
TRUE_WORDS = frozenset({"true", "yes", "t", "1"})
FALSE_WORDS = frozenset({"false", "no", "f", "0"})

UNRESOLVED_KIND = "account could not be resolved"
UNRESOLVED = (
    "account could not be resolved: no account_id, user_id not in users, "
    "and the e-mail domain matches no single account"
)


def expectation(col: Column, date_format: str | None = None) -> str:
    """What a valid value of ``col`` looks like, for people."""
    if col.type == "number":
        if col.min is not None and col.max is not None:
            return f"a number from {col.min:g} to {col.max:g}"
        if col.min is not None:
            return f"a number >= {col.min:g}"
        return "a number"
    if col.type == "integer":
        return "a whole number"
    if col.type in ("date", "timestamp") and date_format:
        return f"a date as {date_format}"
    if col.type == "date":
        return "an ISO 8601 date (YYYY-MM-DD)"
    if col.type == "timestamp":
        return "an ISO 8601 timestamp (YYYY-MM-DDTHH:MM:SS, optional offset)"
    if col.type == "bool":
        return "true/false, yes/no, t/f or 1/0"
    if col.type == "enum":
        return "one of " + "|".join(col.choices)
    return "text"


def shown(col: Column | None, value) -> str:
    """A cell as it may appear in a message: personal values redacted."""
    return REDACTED if col is not None and col.personal else str(value)


# Each template returns (kind, text).

def required_empty(column: str) -> tuple[str, str]:
    text = f"{column}: required value is empty"
    return text, text


def invalid(column: str, expected: str, value: str, *, blanked: bool = False) -> tuple[str, str]:
    kind = f"{column}: not {expected}" + ("; blanked" if blanked else "")
    return kind, f"{column}: expected {expected}, found '{value}'" + ("; blanked" if blanked else "")


def date_order(earlier: str, later: str, earlier_value: str, later_value: str) -> tuple[str, str]:
    return f"{later} before {earlier}", f"{later} '{later_value}' is before {earlier} '{earlier_value}'"


def duplicate(key: str, value: str, first_row: int) -> tuple[str, str]:
    return (f"duplicate {key}: a later row with the key of an earlier one",
            f"duplicate {key} '{value}': the first valid row ({first_row}) is kept")


def unknown_account(account_id: str) -> tuple[str, str]:
    return ("account_id not among the accepted accounts",
            f"account_id '{account_id}' is not among the accepted accounts")


def score_out_of_range(kind: str, value: str) -> tuple[str, str]:
    if kind == "nps":
        return ("score: not a whole number 0..10 for nps",
                f"score: expected a whole number 0..10 for nps, found '{value}'")
    return f"score: not 1..5 for {kind}", f"score: expected 1..5 for {kind}, found '{value}'"


def outcome_disagrees(given: str, derived: str, arr_before: str, arr_after: str) -> tuple[str, str]:
    relation = {"expanded": ">", "downgraded": "<", "renewed": "="}
    detail = ("arr_after is 0" if derived == "churned"
              else f"arr_after '{arr_after}' {relation[derived]} arr_before '{arr_before}'")
    return ("outcome disagrees with arr_before and arr_after; the numbers win, outcome blanked",
            f"outcome '{given}' but {detail}, so it is '{derived}'; the numbers win, outcome blanked")


# SQL forms of the same templates, for DuckDB and Ibis checks of events.

def sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


_SLOT = "\x00"


def sql_text(template, *sql_values: str) -> str:
    """A template's text as a SQL expression, the row's values taken from
    ``sql_values`` (SQL expressions of text): the same words as in pandas."""
    parts = template(*[_SLOT] * len(sql_values))[1].split(_SLOT)
    out = [sql_literal(parts[0])]
    for value, part in zip(sql_values, parts[1:]):
        out += [f"({value})", sql_literal(part)]
    return " || ".join(out)


def sql_kind(template, arity: int) -> str:
    """A template's kind as a SQL literal."""
    return sql_literal(template(*[""] * arity)[0])
