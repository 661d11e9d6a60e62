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

import re

from ..contract import REDACTED, Column

#: ISO 8601 date or timestamp, with an optional offset (the contract's shape).
# The spaces are spelled out, not \s: the pattern is run by Python's re, by
# Arrow and by DuckDB (RE2, whose \s leaves out the vertical tab), and means the same in each.
ISO_PATTERN = r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?)?[ \t\n\r\f\v]*(Z|z|[+-]\d{2}(:?\d{2})?)?"
#: The same shape with each field in its range, for a warehouse, whose cast raises on '2026-13-45' where a
#: file's parser returns nothing; the day of the month is checked against the month apart.
ISO_STRICT_PATTERN = (r"\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])([T ]([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,9})?)?)?"
                      r"\s*(Z|z|[+-](0\d|1[0-4])(:?[0-5]\d)?)?")
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


#: Longest value a message shows (the quarantine keeps the whole value).
SHOWN_LIMIT = 80
#: Characters written out in messages: controls, line separators, and the
#: bidirectional overrides that would reorder what a terminal shows.
_CONTROL = ({c: f"\\x{c:02x}" for c in (*range(0x20), *range(0x7F, 0xA0))}
            | {c: f"\\u{c:04x}" for c in (0x2028, 0x2029, *range(0x202A, 0x202F), *range(0x2066, 0x206A))}
            | {0x09: "\\t", 0x0A: "\\n", 0x0D: "\\r"})


def shown(col: Column | None, value, limit: int = SHOWN_LIMIT) -> str:
    """A cell as it may appear in a message: personal values redacted,
    control characters written out (a message is one line), long values cut."""
    if col is not None and col.personal:
        return REDACTED
    text = str(value).translate(_CONTROL)
    if len(text) > limit:
        text = f"{text[:limit - 1]}… ({len(str(value)):,} characters)"
    return text


# Each template returns (kind, text).

def required_empty(column: str) -> tuple[str, str]:
    text = f"{column}: required value is empty"
    return text, text


def invalid(column: str, expected: str, value: str, *, blanked: bool = False, hint: str = "") -> tuple[str, str]:
    """``hint`` (what the value looks like, what to do) is added to the text, not the kind."""
    kind = f"{column}: not {expected}" + ("; blanked" if blanked else "")
    return kind, (f"{column}: expected {expected}, found '{value}'" + (f" ({hint})" if hint else "")
                  + ("; blanked" if blanked else ""))


def field_count(found: int, expected: int, extra: list[str]) -> tuple[str, str]:
    """A CSV record that does not split into the header's columns."""
    kind = "record has more fields than the header" if found > expected else "record has fewer fields than the header"
    if found > expected:
        values = ", ".join(f"'{shown(None, v)}'" for v in extra[:3]) + (", …" if len(extra) > 3 else "")
        return kind, (f"the record has {found} fields where the header has {expected} (extra values: {values}); "
                      "a delimiter inside an unquoted value? quote the value")
    return kind, (f"the record has {found} field{'s' if found != 1 else ''} where the header has {expected}; "
                  "a line break inside an unquoted value, or a cut line?")


# Hints added to an invalid value's text.

#: A date written another way (31/12/2026, 12.31.2026, 31-12-2026): worth a hint.
OTHER_DATE_SHAPE = r"\d{1,4}[/.]\d{1,2}[/.]\d{1,4}|\d{1,2}-\d{1,2}-\d{2,4}"
DATE_OUT_OF_RANGE = "outside 1678-2261, the dates that can be held"
EXCEL_SERIAL = "an Excel date serial number? format those cells as dates in Excel"
UNSAVED_FORMULA = "a formula with no saved result: open the file in Excel and save it"


def number_hint(value: str, table: str, convention: bool) -> str:
    """What to do about a number that did not parse, when it is plain why."""
    if not re.search(r"[0-9]", value):
        return ""
    if any(c in value for c in "$€£¥₹"):
        return "numbers are plain, without a currency symbol"
    if value.endswith("%"):
        return "numbers are plain, without a percent sign"
    grouped = re.fullmatch("[+-]?[0-9][0-9.,' \u00a0\u202f]*", value) and re.search("[, '\u00a0\u202f]", value)
    if grouped and not convention:
        return (f'if the file writes numbers as 1.234,5 or 1,234.5, set decimal and thousands under '
                f"[sources.{table}] in vga.toml")
    return ""


def date_hint(column: str, table: str) -> str:
    return f'other formats need [sources.{table}.date_formats], e.g. {column} = "%d/%m/%Y"'


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


def no_event_files(folder) -> str:
    """A usage_events folder without a Parquet file in it."""
    return f"{folder}/: folder holds no .parquet files (expected usage_events/*.parquet)"
