"""Whole-column regular expressions (Arrow's RE2) give what Python's re gives
cell by cell, for every pattern the loader and the masking run through them."""

from __future__ import annotations

import re

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from vga import privacy
from vga.load import messages as msg
from vga.textscan import fullmatch, replace, search

# Text made of what the patterns look at: digits (ASCII and not), signs,
# separators, every kind of space (\v, \x1c-\x1f and no-break ones too), the
# letters of 'at', 'T', 'Z' and 'e', brackets and at signs of every width.
ALPHABET = "0123456789١٢٣+-.,:/ 'TtZzEeaA@＠﹫[]()\t\n\x0b\x0c\r\x1c\x1f\u00a0\u202fxé"
cells = st.lists(st.one_of(st.none(), st.text(ALPHABET, max_size=40),
                           st.from_regex(msg.ISO_PATTERN, fullmatch=True),
                           st.from_regex(msg.NUMBER_PATTERN, fullmatch=True)), max_size=30)


def _grouping(thousands: str, decimal: str) -> str:
    sep, dec = re.escape(thousands), re.escape(decimal)
    return rf"[+-]?(\d{{1,3}}({sep}\d{{3}})+|\d{{1,2}}({sep}\d{{2}})+{sep}\d{{3}})({dec}\d*)?"


FULL = [msg.ISO_PATTERN, msg.NUMBER_PATTERN, *(_grouping(t, d) for t, d in
                                                [(",", "."), (".", ","), (" ", ","), ("'", "."), (" ", ".")])]


@settings(max_examples=300, deadline=None)
@given(values=cells)
def test_fullmatch_is_pythons_in_ascii_mode(values):
    column = pd.Series(values, dtype=object)
    for pattern in FULL:
        expected = [isinstance(v, str) and re.fullmatch(pattern, v, re.ASCII) is not None for v in values]
        assert fullmatch(column, pattern).tolist() == expected, pattern


@settings(max_examples=300, deadline=None)
@given(values=cells)
def test_search_and_replace_are_pythons(values):
    column = pd.Series(values, dtype=object)
    # The masking's first look, as privacy compiles it (Unicode, any case).
    assert search(column, privacy._LOOK.pattern, ignore_case=True).tolist() == [
        isinstance(v, str) and privacy._LOOK.search(v) is not None for v in values]
    anchored = f"^(?:{msg.OTHER_DATE_SHAPE})"
    assert search(column, anchored).tolist() == [
        isinstance(v, str) and re.match(msg.OTHER_DATE_SHAPE, v, re.ASCII) is not None for v in values]
    trimmed = column.map(lambda v: v.strip() if isinstance(v, str) else v)  # the loader's text is trimmed
    assert replace(trimmed, "z$", "Z").tolist() == [re.sub("z$", "Z", v) if isinstance(v, str) else v
                                                    for v in trimmed]


def test_a_column_of_other_values_is_matched_by_python():
    """A cell that is not text (a number an export left typed) matches
    nothing, and the text cells around it are still judged."""
    column = pd.Series(["2026-01-02", 5, None, "x@y.z"], dtype=object)
    assert fullmatch(column, msg.ISO_PATTERN).tolist() == [True, False, False, False]
    assert search(column, privacy._LOOK.pattern, ignore_case=True).tolist() == [False, False, False, True]
    assert replace(column, "z$", "Z").tolist() == ["2026-01-02", 5, None, "x@y.Z"]
