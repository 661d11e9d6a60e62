"""Loading a data folder (and a warehouse) against the data contract.

Load owns every input of a run: it finds the files (:mod:`.files`), reads
them as text and parses each column (:mod:`.parse`), applies the contract's
rules (:mod:`.tables`; events out of core with DuckDB in :mod:`.events`, or
in the warehouse with Ibis in :mod:`.warehouse`), resolves events to
accounts, quarantines bad rows with their reason (:mod:`.messages`), and
reads the previous period's results. What it produces, :class:`Loaded`,
becomes the run's :class:`~vga.inputs.Inputs`.

For every table, rows read = rows accepted + rows quarantined. A file that
cannot be read, a missing ``accounts`` table or a missing required column is
a :class:`~vga.errors.DataError` raised before any analysis runs.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

import pandas as pd

from ..config import load_config, warehouse_url
from ..contract import TABLES, pandera_schema
from ..errors import DataError
from ..inputs import Events, Inputs
from ..privacy import mask_frame
from .files import SqlSource, find_sources, read_text_table
from .labels import read_churn_labels
from .outcome import Loaded, TableLoad
from .parse import parse_column
from .tables import check_references, finish, stage_table

__all__ = ["load_folder", "to_inputs", "previous_quadrants", "find_sources", "read_text_table", "parse_column",
           "Loaded", "TableLoad"]


def load_folder(
    data_dir: str | Path, config: dict | None = None, *, strict: bool = False, work_dir: str | Path | None = None,
    progress=None, store=None, allow_outside: bool = False,
) -> Loaded:
    """Load every contract table found in ``data_dir`` (and the warehouse
    events, when configured).

    ``config`` is a resolved configuration (:func:`vga.config.load_config`);
    by default the folder's ``vga.toml`` or the defaults. Accepted events are
    written under ``work_dir`` (a temporary folder removed at exit when not
    given). With ``strict``, any quarantined row or blanked cell raises
    :class:`DataError` naming file, row, column and reason. ``progress`` is
    called with each table's :class:`TableLoad` as it is finished.
    ``store`` (an :class:`~vga.load.store.EventStore`) keeps validated
    events between runs: a refresh validates only the event files that
    changed (:mod:`vga.load.store`). Files outside ``data_dir`` (symbolic
    links followed) are refused unless ``allow_outside``.
    """
    data_dir = Path(data_dir)
    config = config if config is not None else load_config(None, data_dir)
    sources = find_sources(data_dir, config, allow_outside)
    url = warehouse_url(config)
    if url and "usage_events" in sources:
        raise DataError(f"usage_events is given twice: in {sources['usage_events']} and in the warehouse "
                        "([warehouse] url); remove one")
    warehouse_con = None
    if url:  # an unreachable warehouse fails now, before any file is read
        from .warehouse import connect

        warehouse_con = connect(config)
    # Every file is read before any analysis: an unreadable file or a missing
    # column stops the run first. Accounts and users come first: a warehouse
    # starts judging its events with them while the other files are read.
    # Events are checked apart, out of core.
    stages = {name: stage_table(name, sources[name], config) for name in ("accounts", "users") if name in sources}
    loaded: dict[str, TableLoad] = {}

    def done(name, load):
        # People's contact details written into any text are masked before anything is shown (vga.privacy).
        load.accepted, load.quarantined, load.blanked = (mask_frame(load.accepted), mask_frame(load.quarantined),
                                                         mask_frame(load.blanked))
        load.date_range()
        loaded[name] = load
        if progress:
            progress(load)

    done("accounts", finish(stages["accounts"]))
    account_ids = set(loaded["accounts"].accepted["account_id"])
    if "users" in stages:
        check_references(stages["users"], account_ids)
        done("users", finish(stages["users"]))
    users = loaded["users"].accepted if "users" in loaded else None
    judging = None
    if url and "usage_events" not in sources:
        # The warehouse judges its events (its own process, most of a warehouse
        # load) while this one checks the other tables.
        from concurrent.futures import ThreadPoolExecutor

        from .warehouse import validate_warehouse_events

        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="vga-warehouse")
        judging = pool.submit(validate_warehouse_events, config, loaded["accounts"].accepted, users, warehouse_con)
        pool.shutdown(wait=False)
    try:
        for name, path in sources.items():
            if name not in stages and name != "usage_events":
                stages[name] = stage_table(name, path, config)
        for name in [n for n in stages if n not in ("accounts", "users")]:
            check_references(stages[name], account_ids)
            done(name, finish(stages[name]))
    except BaseException:
        if judging is not None and not judging.cancel():
            _cancel_queries(warehouse_con)  # a run that stops here leaves no query running
        raise
    warehouse_events = None
    if "usage_events" in sources:
        done("usage_events", _load_events(sources["usage_events"], config, loaded["accounts"].accepted, users, work_dir,
                                          store))
    elif judging is not None:
        warehouse_events, events_load = judging.result()
        done("usage_events", events_load)
    ordered = {name: loaded[name] for name in TABLES if name in loaded}
    result = Loaded(data_dir, config, ordered, warehouse_events,
                    read_churn_labels(data_dir, config, set(loaded["accounts"].accepted["account_id"])))
    _check_accepted_against_schema(result)
    check_configured_names(result)
    if strict:
        lines = result.problems()
        if lines:
            total = sum(t.quality["rows_quarantined"] + t.quality["cells_blanked"] for t in ordered.values())
            raise DataError(
                f"strict mode: {total} quarantined row(s) or blanked cell(s); fix the data or run without --strict\n  "
                + "\n  ".join(lines[:20])
                + (f"\n  … and {total - 20} more" if total > 20 else "")
            )
    return result


def _cancel_queries(con) -> None:
    """Ask the warehouse to stop the query ``con`` runs (PostgreSQL; elsewhere
    the query finishes on its own)."""
    cancel = getattr(getattr(con, "con", None), "cancel", None)
    if cancel is not None:
        try:
            cancel()
        except Exception:  # already finished or closed: nothing runs
            pass


def _load_events(path: Path, config: dict, accounts, users, work_dir, store=None) -> TableLoad:
    """Events through DuckDB (:mod:`vga.load.events`), never through pandas;
    through the incremental store (:mod:`vga.load.store`) when one is given."""
    from .events import validate_events

    if work_dir is None:
        work_dir = Path(tempfile.mkdtemp(prefix="vga-events-"))
        atexit.register(shutil.rmtree, work_dir, ignore_errors=True)
    source = path if isinstance(path, SqlSource) else Path(path)
    if store is not None:
        from .store import validate_with_store

        result = validate_with_store(store, source, config, accounts, users, Path(work_dir))
    else:
        result = validate_events(source, config, accounts, users, Path(work_dir))
    files = path.files if isinstance(path, SqlSource) else (
        sorted(Path(path).glob("*.parquet")) if Path(path).is_dir() else [Path(path)])
    notes = {"resolved_by": result["resolved_by"], "unresolved": result["unresolved"]}
    if store is not None:
        notes["store"] = {"parts": result["parts"], "reused": list(store.reused), "validated": list(store.validated)}
    return TableLoad(
        "usage_events", str(path), files, pd.DataFrame(), result["quarantined"],
        pd.DataFrame(columns=["source_row", "column", "value", "reason", "reason_kind"]), result["rows_read"],
        notes, accepted_path=result["accepted_path"], accepted_rows=result["rows_accepted"],
        first_date=result["first_date"], last_date=result["last_date"],
    )


def _closest(name: str, known: list[str]) -> str:
    """' (did you mean 'x'?)' for the known names closest to ``name``, else ''."""
    import difflib

    close = difflib.get_close_matches(name, known, n=3, cutoff=0.6)
    if not close:
        close = [k for k in known if name.lower() in k.lower() or k.lower() in name.lower()][:3]
    return f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""


def check_configured_names(loaded: Loaded) -> None:
    """Every name the configuration gives a value must exist in the data: a
    slicing dimension among the columns of ``accounts``, a core or value
    feature among the features of the events. A name the data lacks would
    silently drop a slice or score a feature nobody can use, so it is an
    error naming the closest matches (:class:`~vga.errors.UsageError`)."""
    from ..errors import UsageError

    config = loaded.config
    file = config.get("_file") or "the configuration"
    accounts = loaded.tables["accounts"].accepted
    columns = [c for c in accounts.columns if c not in ("source_row", "source_file")]
    for name in config["analysis"].get("slicing_dimensions") or []:
        if name not in columns:
            raise UsageError(f"{file}: [analysis] slicing_dimensions names '{name}', which is not a column of "
                             f"accounts{_closest(name, columns)}; columns: {', '.join(columns)}")
    named = {key: list(config["usage"].get(key) or []) for key in ("core_features", "value_events")}
    if not any(named.values()) or "usage_events" not in loaded.tables:
        return
    if loaded.tables["usage_events"].quality["rows_accepted"] == 0:
        return  # no events at all: the analyses say so; there is nothing to misspell against
    features = _event_features(loaded)
    for key, names in named.items():
        for name in names:
            if name not in features:
                shown = ", ".join(features[:30]) + (f" ... ({len(features)} in all)" if len(features) > 30 else "")
                raise UsageError(f"{file}: [usage] {key} names '{name}', which no accepted usage event has as its "
                                 f"feature{_closest(name, features)}; features: {shown or 'none'}")


def _event_features(loaded: Loaded) -> list[str]:
    """Every feature name among the accepted events: one scan of one column,
    where the events are (DuckDB over the accepted Parquet, or the warehouse)."""
    if loaded.warehouse_events is not None:
        from ..engine import distinct_features

        return distinct_features(loaded.warehouse_events)  # once per run: the analyses reuse it
    else:
        import duckdb

        path = loaded.tables["usage_events"].accepted_path
        files = [str(p) for p in path] if isinstance(path, (list, tuple)) else [str(path)]
        with duckdb.connect() as con:
            names = con.execute("SELECT DISTINCT feature FROM read_parquet($files)", {"files": files}).df()["feature"]
    return sorted(str(f) for f in names.dropna())


def _check_accepted_against_schema(loaded: Loaded) -> None:
    """Validate accepted rows with the pandera schema of each table.

    The loader has already enforced the contract; a failure here is a bug in
    vga, not in the data, and is reported as such.
    """
    for name, t in loaded.tables.items():
        if name == "usage_events" or t.accepted.empty:
            continue  # events are checked column by column above; too many rows to re-check
        pandera_schema(name, list(t.accepted.columns)).validate(t.accepted, lazy=True)


def previous_quadrants(reports_dir: str | Path | None, previous_label: str) -> pd.DataFrame | None:
    """``results/quadrants.csv`` of the previous period's run, if there is one."""
    if not reports_dir:
        return None
    path = Path(reports_dir) / previous_label / "results" / "quadrants.csv"
    if not path.is_file():
        return None
    return pd.read_csv(path, dtype={"account_id": str, "quadrant": str}, keep_default_na=False)


def to_inputs(loaded: Loaded, previous: pd.DataFrame | None = None) -> Inputs:
    """The run's :class:`~vga.inputs.Inputs` from what was loaded."""
    tables = {name: t.accepted for name, t in loaded.tables.items() if name != "usage_events"}
    events = None
    if loaded.warehouse_events is not None:
        events = Events(expression=loaded.warehouse_events, where="warehouse")
    elif "usage_events" in loaded.tables:
        events = Events(path=loaded.tables["usage_events"].accepted_path)
    return Inputs(tables, events, loaded.sources(), loaded.reasons(), loaded.identity_resolution(), previous,
                  loaded.churn_labels)
