"""The contract's rules for one table held in memory (every table but events).

Rules, in the contract's order:

1. Value checks: a missing or invalid *required* value quarantines the row;
   an invalid *optional* value is blanked and the cell is listed.
2. Row rules: a violated date order quarantines the row; a duplicate unique
   key keeps the first valid row and quarantines the later ones.
3. References: a row naming an account that is not among the kept accounts
   is quarantined.

Table-specific rules (survey scores by kind, a renewal outcome that
disagrees with its numbers) follow the value checks.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..config import source_spec
from ..contract import PERSONAL_COLUMNS, REDACTED, TABLES, Table, derived_outcome
from ..errors import DataError
from . import messages as msg
from ..limits import limits_of
from .files import RawTable, SqlSource, missing_required_message, read_table
from .outcome import TableLoad
from .parse import parse_column_with_hints


class Reasons:
    """Reasons per row (to quarantine) and per cell (to blank), each a
    (kind, text) pair from :mod:`vga.load.messages`."""

    def __init__(self):
        self.rows: dict[int, list[tuple[str, str]]] = {}
        self.cells: list[tuple[int, str, str, tuple[str, str]]] = []

    def quarantine(self, index, reason_of):
        for i in index:
            self.rows.setdefault(int(i), []).append(reason_of(i))

    def blank(self, index, column, value_of, reason_of):
        for i in index:
            self.cells.append((int(i), column, value_of(i), reason_of(i)))


def _validate_values(table: Table, text: pd.DataFrame, options: dict, raw: RawTable | None = None,
                     origin: dict[str, str] | None = None, excel: bool = False) -> tuple[pd.DataFrame, Reasons]:
    """Value checks. ``raw`` and ``origin`` (contract name -> file column)
    say which cells the file held typed or as unsaved formulas."""
    parsed = pd.DataFrame(index=text.index)
    found = Reasons()
    origin = origin or {}
    for name in text.columns:
        col = table.column(name)
        if col is None or name in ("source_row", "source_file"):
            continue
        date_format = options.get("date_formats", {}).get(name)
        source_name = origin.get(name, name)
        col_options = {
            "decimal": options.get("decimal"), "thousands": options.get("thousands"), "date_format": date_format,
            "typed": raw.typed.get(source_name) if raw else None,
            "formula": raw.formulas.get(source_name) if raw else None, "excel": excel, "table": table.name,
        }
        values, bad, hints = parse_column_with_hints(text[name], col, col_options)
        expected = msg.expectation(col, date_format)
        if col.required:
            found.quarantine(text.index[text[name] == ""], lambda i, n=name: msg.required_empty(n))
            found.quarantine(
                text.index[bad],
                lambda i, n=name, c=col, e=expected, h=hints: msg.invalid(n, e, msg.shown(c, text.at[i, n]), hint=h[i]))
        else:
            found.blank(
                text.index[bad], name, lambda i, n=name, c=col: msg.shown(c, text.at[i, n]),
                lambda i, n=name, c=col, e=expected, h=hints: msg.invalid(
                    n, e, msg.shown(c, text.at[i, n]), blanked=True, hint=h[i]),
            )
        parsed[name] = values
    return parsed, found


def _table_rules(table: Table, text: pd.DataFrame, parsed: pd.DataFrame, found: Reasons) -> None:
    """Rules that need more than one column of a row."""
    if table.name == "surveys" and {"kind", "score"} <= set(parsed.columns):
        kind, score = parsed["kind"], parsed["score"]
        nps = kind == "nps"
        bad_nps = nps & score.notna() & ((score < 0) | (score > 10) | (score % 1 != 0))
        bad_other = kind.notna() & ~nps & score.notna() & ((score < 1) | (score > 5))
        found.quarantine(parsed.index[bad_nps | bad_other],
                         lambda i: msg.score_out_of_range(parsed.at[i, "kind"], text.at[i, "score"]))
    if table.name == "renewals" and "outcome" in parsed.columns:
        derived = derived_outcome(parsed.fillna({"arr_before": np.nan, "arr_after": np.nan}))
        given = parsed["outcome"]
        numbers = parsed["arr_before"].notna() & parsed["arr_after"].notna()
        wrong = given.notna() & numbers & (given != derived)
        found.blank(
            parsed.index[wrong], "outcome", lambda i: text.at[i, "outcome"],
            lambda i: msg.outcome_disagrees(given[i], derived[i], text.at[i, "arr_before"], text.at[i, "arr_after"]),
        )


def _row_rules(table: Table, text: pd.DataFrame, parsed: pd.DataFrame, keep: pd.Series, found: Reasons) -> pd.Series:
    """Date order and duplicate keys, on rows that passed the value checks."""
    for earlier, later in table.date_order:
        if earlier in parsed.columns and later in parsed.columns:
            wrong = keep & parsed[later].notna() & parsed[earlier].notna() & (parsed[later] < parsed[earlier])
            found.quarantine(
                parsed.index[wrong],
                lambda i, a=earlier, b=later: msg.date_order(a, b, text.at[i, a], text.at[i, b]),
            )
            keep = keep & ~wrong
    key = table.unique_key
    if key and key in parsed.columns:
        candidates = parsed[key].where(keep)
        dup = keep & candidates.duplicated(keep="first") & candidates.notna()
        first_row = text.loc[keep & ~dup].set_index(parsed.loc[keep & ~dup, key])["source_row"]
        col = table.column(key)
        found.quarantine(
            parsed.index[dup],
            lambda i: msg.duplicate(key, msg.shown(col, text.at[i, key]), int(first_row[parsed.at[i, key]])),
        )
        keep = keep & ~dup
    return keep


def redact(raw: pd.DataFrame, personal_raw_names: set[str]) -> pd.DataFrame:
    """Original columns with personal values (and any e-mail column) redacted."""
    out = raw.copy()
    for name in out.columns:
        if name in personal_raw_names or "email" in name.lower():
            out[name] = np.where(out[name].astype(str) != "", REDACTED, "")
    return out


@dataclass
class Staged:
    """A table between the value checks and the reference check."""

    table: Table
    source: Path
    raw: pd.DataFrame  # original column names
    text: pd.DataFrame  # contract column names
    parsed: pd.DataFrame
    keep: pd.Series
    found: Reasons
    personal_raw: set[str]


def _contract_columns(name: str, path, raw: pd.DataFrame, mapping: dict) -> tuple[pd.DataFrame, dict[str, str]]:
    """The file's columns under contract names (``[sources.<table>.columns]``:
    contract name -> name in the file). Returns the frame and, per column,
    the file column it came from. A file column named like a contract column
    that the mapping takes from elsewhere is kept as ``<name> (unmapped)``;
    one file column may feed several contract columns."""
    file_columns = [c for c in raw.columns if c not in ("source_row", "source_file")]
    absent = [(c, f) for c, f in mapping.items() if f not in file_columns]
    if absent:
        contract_name, file_name = absent[0]
        where = getattr(path, "name", str(path))
        raise DataError(
            f"vga.toml maps {contract_name} to '{file_name}' under [sources.{name}.columns], but {where} has no "
            f"column '{file_name}'; found [{', '.join(msg.shown(None, c, 200) for c in file_columns)}]"
        )
    targets: dict[str, list[str]] = {}  # file column -> the contract columns it feeds
    for contract_name, file_name in mapping.items():
        targets.setdefault(file_name, []).append(contract_name)
    columns, origin = {"source_row": raw["source_row"]}, {}
    if "source_file" in raw.columns:
        columns["source_file"] = raw["source_file"]
    for c in file_columns:  # in the file's order
        for target in targets.get(c) or [f"{c} (unmapped)" if c in mapping else c]:
            columns[target], origin[target] = raw[c], c
    return pd.DataFrame(columns, index=raw.index), origin


def stage_table(name: str, path: Path, config: dict) -> Staged:
    """Read ``path`` and apply the value checks, table rules and row rules."""
    table = TABLES[name]
    options = source_spec(config, name)
    source = read_table(path, name, options, limits_of(config))
    raw = source.frame
    mapping = options.get("columns", {})  # contract name -> name in the file
    text, origin = _contract_columns(name, path, raw, mapping)
    missing = [c for c in table.required if c not in text.columns]
    if missing:
        shown = [c for c in raw.columns if c not in ("source_row", "source_file")]
        raise DataError(missing_required_message(name, path, shown, missing))
    personal_raw = {mapping.get(c, c) for c in PERSONAL_COLUMNS}
    excel = not isinstance(path, SqlSource) and Path(path).suffix.lower() == ".xlsx"
    parsed, found = _validate_values(table, text, options, source, origin, excel)
    _table_rules(table, text, parsed, found)
    for i, reason in source.malformed.items():  # a record that does not fit the header: that is its one reason
        found.rows[int(i)] = [reason]
    keep = pd.Series(True, index=text.index)
    keep[list(found.rows)] = False
    keep = _row_rules(table, text, parsed, keep, found)
    return Staged(table, path if isinstance(path, SqlSource) else Path(path), raw, text, parsed, keep, found,
                  personal_raw)


def check_references(stage: Staged, account_ids: set[str]) -> None:
    parsed = stage.parsed
    bad = stage.keep & ~parsed["account_id"].isin(account_ids)
    stage.found.quarantine(parsed.index[bad],
                           lambda i: msg.unknown_account(msg.shown(None, parsed.at[i, "account_id"])))
    stage.keep = stage.keep & ~bad


def finish(stage: Staged) -> TableLoad:
    """Split a staged table into accepted rows, quarantined rows and blanked cells."""
    keep = stage.keep
    # Blank every listed cell (the type parser already blanked its own).
    for i, col, _, _ in stage.found.cells:
        if col in stage.parsed.columns and pd.notna(stage.parsed.at[i, col]):
            stage.parsed.at[i, col] = None
    accepted = stage.parsed.loc[keep].copy()
    # Unknown extra columns are kept (as text) and ignored by the analyses.
    for extra in stage.text.columns:
        if extra not in accepted.columns:
            accepted[extra] = stage.text.loc[keep, extra]
    accepted["source_row"] = stage.text.loc[keep, "source_row"].astype(np.int64)
    accepted = accepted.reset_index(drop=True)
    bad_index = sorted(stage.found.rows)
    quarantined = redact(stage.raw.loc[bad_index], stage.personal_raw)
    quarantined["reason"] = ["; ".join(text for _, text in stage.found.rows[i]) for i in bad_index]
    quarantined["reason_kind"] = ["; ".join(kind for kind, _ in stage.found.rows[i]) for i in bad_index]
    quarantined = quarantined.reset_index(drop=True)
    kept_cells = [c for c in stage.found.cells if keep.iloc[c[0]]]
    blanked = pd.DataFrame(
        [(int(stage.text.at[i, "source_row"]), col, value, reason[1], reason[0]) for i, col, value, reason in kept_cells],
        columns=["source_row", "column", "value", "reason", "reason_kind"],
    )
    if isinstance(stage.source, SqlSource):
        files = stage.source.files
    else:
        files = sorted(stage.source.glob("*.parquet")) if stage.source.is_dir() else [stage.source]
    return TableLoad(stage.table.name, str(stage.source), files, accepted, quarantined, blanked, len(stage.text))
