"""People's contact details kept out of every output.

The data contract names its personal columns (``user_id``, ``user_email``,
``email``, ``respondent_id``): they are used for identity resolution and
never shown. But people write their contact details anywhere: an account
name "Acme (ask jane.doe@acme.com)", a churn reason "call +44 20 7946 0958",
a survey comment, a ticket category, the programme's sponsor. Every text
that may reach an output (the report, results, workbooks and their sheet
names, quarantine files, the manifest, summaries) goes through
:func:`mask_contacts`: an e-mail address or a phone number in it is
replaced by :data:`~vga.contract.REDACTED` (``[redacted]``), as personal
values are in the quarantine files.

What counts as a phone number: an optional ``+`` and country code, then
groups of digits separated by spaces, dots, dashes or a bracketed area
code, 9 to 15 digits in all. A date (``2026-09-30``), a time, an amount
(``1,234,567``) or a run of digits without separators (an id) is not one.
"""

from __future__ import annotations

import re

import pandas as pd

from .contract import REDACTED

EMAIL = re.compile(r"[\w.+%-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
PHONE = re.compile(r"(?<![\w+.])(?:\+\d{1,3}[\s.-]?)?(?:\(\d{1,5}\)[\s.-]?)?\d{1,6}(?:[\s.-]\d{1,8}){1,6}(?![\w.])")
_DATE = re.compile(r"\d{4}[-./]\d{1,2}[-./]\d{1,2}|^\d{1,2}[-./]\d{1,2}[-./]\d{2,4}$")
#: Columns that are keys or personal identity, handled by their own rules, never masked.
KEEP = {"account_id", "user_id", "ticket_id", "fix_id", "respondent_id", "user_email", "email", "domain",
        "source_row", "source_file"}


def _phone(match: re.Match) -> str:
    text = match.group(0)
    digits = sum(c.isdigit() for c in text)
    if not 9 <= digits <= 15 or _DATE.search(text.strip()):
        return text
    groups = re.findall(r"\d+", text)
    if not text.startswith("+") and "(" not in text and len(groups) < 3 and not groups[0].startswith("0"):
        return text  # two groups of digits ("2024 2025", "10 000"): a number, unless with a trunk prefix 0
    return REDACTED


def mask_contacts(value):
    """``value`` with every e-mail address and phone number replaced by
    ``[redacted]``; anything but text is returned as it is."""
    if not isinstance(value, str) or not value:
        return value
    if "@" in value:
        value = EMAIL.sub(REDACTED, value)
    if sum(c.isdigit() for c in value) >= 9:
        value = PHONE.sub(_phone, value)
    return value


def mask_frame(frame: pd.DataFrame, keep: set[str] = KEEP) -> pd.DataFrame:
    """``frame`` with :func:`mask_contacts` applied to every text column but
    the keys and personal columns of ``keep`` (a new frame when anything
    changed; the same frame otherwise)."""
    out = frame
    for column in frame.columns:
        if column in keep or not (pd.api.types.is_object_dtype(frame[column])
                                  or pd.api.types.is_string_dtype(frame[column])):
            continue
        values = frame[column]
        has_text = values.map(lambda v: isinstance(v, str) and ("@" in v or sum(c.isdigit() for c in v) >= 9))
        if not has_text.any():
            continue
        if out is frame:
            out = frame.copy()
        out.loc[has_text, column] = values[has_text].map(mask_contacts)
    return out


def mask_tree(value):
    """:func:`mask_contacts` over every string of a nested structure of
    dicts and lists (a configuration section, a summary)."""
    if isinstance(value, dict):
        return {k: mask_tree(v) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_tree(v) for v in value]
    return mask_contacts(value)
