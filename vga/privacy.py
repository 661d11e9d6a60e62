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

What counts as an e-mail address: text, ``@`` (or a full-width ``＠``, or
`` [at] ``), then a domain, with or without a dot (``jane.doe@acme``).
What counts as a phone number: 9 to 15 digits written as one, with an
optional ``+`` or ``00`` and country code, a bracketed area code, and
groups separated by spaces, dots, dashes or slashes (``+44 20 7946 0958``,
``+15551234567``, ``00447946095812``, ``555/123/4567``, ``555 1234567``),
or a run of 10 to 15 digits after a word that names a phone ("call",
"tel", "mobile"...). Text is normalised (NFKC) first, so full-width
digits and signs count. A date (``2026-09-30``), a time, an amount
(``1,234,567``, ``1 234 567 890``) or a bare run of digits (an id) is
not a phone number.
"""

from __future__ import annotations

import re
import unicodedata

import pandas as pd

from .contract import REDACTED
from .textscan import search

EMAIL = re.compile(r"[\w.+%-]+@[\w-]+(?:\.[\w-]+)*", re.UNICODE)
#: An address written to dodge a filter: "jane.doe [at] acme [dot] com".
SPELLED_EMAIL = re.compile(r"[\w.+%-]+\s*[\[(]\s*at\s*[\])]\s*[\w-]+(?:\s*(?:\.|[\[(]\s*dot\s*[\])])\s*[\w-]+)+",
                           re.IGNORECASE)
#: A run of digits and separators that may be a phone number (checked by _is_phone).
PHONE = re.compile(r"(?<![\w+.])(?:(?:\+|00)\s?\d{1,3}[\s./-]?)?(?:\(\d{1,5}\)[\s./-]?)?\d{1,15}"
                   r"(?:(?:[\s./-]|\s?\(\d{1,5}\)\s?)\d{1,15}){0,7}(?![\w])")
#: A word that says the number after it is a phone's.
PHONE_WORD = re.compile(r"(?:phone|tel|telephone|call|mobile|mob|cell|fax|whatsapp|sms|ph)\.?\s*[:#]?\s*$",
                        re.IGNORECASE)
_DATE = re.compile(r"(?:19|20)\d{2}[-./](?:0?[1-9]|1[0-2])[-./](?:0?[1-9]|[12]\d|3[01])(?!\d)"
                   r"|^(?:0?[1-9]|[12]\d|3[01])[-./](?:0?[1-9]|1[0-2])[-./](?:19|20)?\d{2}$")
#: Columns that are keys or personal identity, handled by their own rules, never masked.
KEEP = {"account_id", "user_id", "ticket_id", "fix_id", "respondent_id", "user_email", "email", "domain",
        "source_row", "source_file"}
#: Text worth a closer look: an at sign of any width, text that NFKC may change, or nine digits.
#: Run over whole columns by Arrow (RE2) as well as by Python's re: the spaces are
#: spelled out as Python's \s reads them in ASCII text (RE2's leaves out \v and \x1c-\x1f).
_LOOK = re.compile(r"[@＠﹫]|[^\x00-\x7f]|\[[\t\n\x0b\x0c\r\x1c-\x1f ]*at[\t\n\x0b\x0c\r\x1c-\x1f ]*\]"
                   r"|\([\t\n\x0b\x0c\r\x1c-\x1f ]*at[\t\n\x0b\x0c\r\x1c-\x1f ]*\)|(?:\d\D*){9}", re.IGNORECASE)


def _is_phone(text: str, before: str) -> bool:
    """Whether a :data:`PHONE` match is a phone number (see the module docstring)."""
    digits = sum(c.isdigit() for c in text)
    if not 9 <= digits <= 15 or (_DATE.search(text.strip()) and not text.startswith(("+", "00"))):
        return False  # a date, unless after an international prefix (no date has one)
    groups = re.findall(r"\d+", text)
    international = text.startswith(("+", "00"))
    if len(groups) == 1:  # digits only: an id, unless marked as a phone's
        return (text.startswith("+") or (text.startswith("00") and digits >= 11)
                or (digits >= 10 and bool(PHONE_WORD.search(before))))
    if international or "(" in text:
        return True
    separators = set(re.findall(r"[^\d]+", text))
    if len(groups) == 2:  # "555 1234567" or a trunk prefix "020 79460958"; not "2024 2025" or "10 000"
        return groups[0].startswith("0") or (2 <= len(groups[0]) <= 5 and 6 <= len(groups[1]) <= 8)
    # An amount's first group never starts with 0 ("010 000 000" is a trunk prefix, a phone's).
    amount = (len(separators) == 1 and separators <= {" ", ".", "\u00a0", "\u202f"} and len(groups[0]) <= 3
              and not groups[0].startswith("0") and all(len(g) == 3 for g in groups[1:]))
    return not amount


def _phone_head(found: str, before: str) -> int:
    """The length of the longest head of a :data:`PHONE` match, whole groups
    of digits, that is a phone number (0 when none is): a number written
    just before the phone's would otherwise make the match one too long."""
    ends = [m.end() for m in re.finditer(r"\d+", found)]
    for end in reversed(ends):
        if _is_phone(found[:end], before):
            return end
    return 0


def _mask_phones(text: str) -> str:
    out, pos = [], 0
    while True:
        match = PHONE.search(text, pos)
        if match is None:
            break
        before = text[max(0, match.start() - 20):match.start()]
        head = _phone_head(match.group(0), before)
        if head:  # the whole match, or its longest head that is a phone ("call 0044 10000000000 1")
            out += [text[pos:match.start()], REDACTED]
            pos = match.start() + head
        else:  # not one number as a whole; its tail may be one (a date, then a phone number)
            cut = re.search(r"[\s./-]", match.group(0))
            stop = match.start() + (cut.end() if cut else len(match.group(0)))
            out.append(text[pos:stop])
            pos = stop
    out.append(text[pos:])
    return "".join(out)


def _mask(value: str) -> str:
    if "@" in value:
        value = EMAIL.sub(REDACTED, value)
    if "at" in value.lower():
        value = SPELLED_EMAIL.sub(REDACTED, value)
    if sum(c.isdigit() for c in value) >= 9:
        value = _mask_phones(value)
    return value


def mask_contacts(value):
    """``value`` with every e-mail address and phone number replaced by
    ``[redacted]``; anything but text is returned as it is. Text holding
    one in its NFKC form (full-width signs and digits) is returned in
    that form, masked."""
    if not isinstance(value, str) or not value or not _LOOK.search(value):
        return value
    if value.isascii():
        return _mask(value)
    normal = unicodedata.normalize("NFKC", value)
    masked = _mask(normal)
    return masked if masked != normal else value


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
        has_text = search(values, _LOOK.pattern, ignore_case=True)  # the whole column at once, not per value
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
