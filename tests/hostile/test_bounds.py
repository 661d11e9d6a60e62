"""Whatever a data folder holds, a run ends: a mapping query stops at its time
and memory limits and at Ctrl-C or SIGTERM, with one line naming it; a cell,
a file and every part of a workbook are bounded; a data folder's vga.toml
cannot lift its own bounds."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import zipfile

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vga.config import load_config
from vga.errors import DataError
from vga.load import load_folder

from .common import data_folder, mapping, one_line, vga

ENDLESS = "SELECT account_id, arr FROM read_csv('accounts.csv') WHERE (SELECT count(*) FROM range(10000000000000)) > 0"
RECURSIVE = ("WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r, range(2)) "
             "SELECT n AS account_id, 1 AS arr FROM r")


def _own(tmp_path, text: str):
    """A vga.toml of the user's own (given with --config), with ``text``."""
    path = tmp_path / "mine.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("sql, limits, words", [
    (ENDLESS, "query_seconds = 2", "ran for more than 2 s.*query_seconds"),
    (RECURSIVE, 'query_seconds = 20\nquery_memory = "64MB"', "more than the 64MB of memory.*query_memory"),
    (f"SELECT * FROM ({ENDLESS}) UNION ALL SELECT 'z', 1", "query_seconds = 2", "ran for more than 2 s"),
])
def test_a_query_stops_at_its_bound_with_one_line(tmp_path, sql, limits, words):
    """The attack: an endless scalar subquery or recursive CTE hung the run
    for ever; DuckDB's only bound was 80% of the machine's memory."""
    folder = data_folder(tmp_path)
    own = _own(tmp_path, f'[sources.accounts]\nsql = """\n{sql}\n"""\n[limits]\n{limits}\n')
    started = time.monotonic()
    with pytest.raises(DataError, match=words) as info:
        load_folder(folder, load_config(own))
    assert time.monotonic() - started < 25
    assert "\n" not in str(info.value) and "mine.toml line 2" in str(info.value)


@pytest.mark.parametrize("sent, code, said", [(signal.SIGTERM, 143, "stopped by SIGTERM"),
                                              (signal.SIGINT, 130, "interrupted")])
def test_a_running_query_stops_at_once_on_sigterm_and_ctrl_c(tmp_path, sent, code, said):
    """The attack's hung run ignored SIGTERM and Ctrl-C for 610 s, until SIGKILL."""
    folder = data_folder(tmp_path)
    mapping(folder, ENDLESS)
    run = subprocess.Popen([sys.executable, "-m", "vga", "validate", "--data", str(folder)], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True,
                           preexec_fn=lambda: signal.signal(signal.SIGINT, signal.default_int_handler))
    try:
        time.sleep(6)  # started, and inside the query (its default bound is 300 s)
        assert run.poll() is None
        run.send_signal(sent)
        started = time.monotonic()
        out, err = run.communicate(timeout=60)
        assert time.monotonic() - started < 20
    finally:
        run.kill()
    assert run.returncode == code, err
    assert err.strip().splitlines() == [f"vga: {said}"]


def test_a_data_folders_toml_cannot_raise_its_own_bounds(tmp_path):
    folder = data_folder(tmp_path)
    (folder / "vga.toml").write_text("[limits]\nquery_seconds = 100000000\n")
    done = vga("validate", "--data", folder)
    assert done.returncode == 2
    line = one_line(done)
    assert "[limits]" in line and "came with the data folder" in line and "--config" in line


@pytest.mark.parametrize("value, words", [("0", "above 0"), ('"lots"', "above 0"), ("true", "above 0")])
def test_a_bound_must_be_a_bound(tmp_path, value, words):
    from vga.errors import UsageError

    with pytest.raises(UsageError, match=words):
        load_config(_own(tmp_path, f"[limits]\nquery_seconds = {value}\n"))
    with pytest.raises(UsageError, match="amount of memory"):
        load_config(_own(tmp_path, '[limits]\nquery_memory = "all of it"\n'))


def test_a_cell_past_its_bound_is_named_by_row_and_column(tmp_path):
    """The attack: one 300 MB cell took 3.3 GB to read. A cell is bounded
    (1 MiB by default) and refused as the reader meets it."""
    folder = data_folder(tmp_path)
    big = "x" * (1024 * 1024 + 10)
    (folder / "accounts.csv").write_text(f"account_id,arr,notes\na,1,short\nb,2,{big}\nc,3,short\n")
    with pytest.raises(DataError, match=r"accounts.csv: row 2 \(line 3\), column 'notes': a value of more than "
                                        r"1 MiB.*cell_bytes") as info:
        load_folder(folder)
    assert "\n" not in str(info.value)
    import pandas as pd

    (folder / "accounts.csv").unlink()
    pd.DataFrame({"account_id": ["a", "b"], "arr": ["1", "2"], "notes": ["short", big]}).to_parquet(
        folder / "accounts.parquet")
    with pytest.raises(DataError, match=r"accounts.parquet: row 2, column 'notes': a value of 1,048,586 characters"):
        load_folder(folder)
    # Raised in the user's own configuration, the same cell is read.
    own = _own(tmp_path, "[limits]\ncell_bytes = 2000000\n")
    assert load_folder(folder, load_config(own)).tables["accounts"].quality["rows_accepted"] == 2


def test_a_file_past_its_bound_is_refused_before_it_is_read(tmp_path):
    folder = data_folder(tmp_path)
    own = _own(tmp_path, "[limits]\nfile_bytes = 40\n")
    with pytest.raises(DataError, match="accounts.csv: 67 bytes, more than the 40 bytes vga reads.*file_bytes"):
        load_folder(folder, load_config(own))


def _bomb(path, where: str) -> None:
    """A workbook whose one large part lies at ``where`` in the archive."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("_rels/.rels", f'<Relationships><Relationship Target="{where}"/></Relationships>')
        z.writestr(where, "<row/>" * 4_000_000)


@pytest.mark.parametrize("where", ["xl/worksheets/sheet1.xml", "evil/sheet.xml", "customXml/item1.xml"])
def test_a_workbook_bomb_is_refused_wherever_its_parts_lie(tmp_path, where):
    """The attack: with its parts outside xl/, a 1.2 MB workbook expanded
    to 344 MiB and was read (232 s, 4.3 GB)."""
    folder = data_folder(tmp_path)
    _bomb(folder / "training.xlsx", where)
    assert (folder / "training.xlsx").stat().st_size < 200_000
    own = _own(tmp_path, f"[limits]\nworkbook_bytes = {16 * 1024 * 1024}\n")
    started = time.monotonic()
    with pytest.raises(DataError, match="training.xlsx: the workbook would expand to 23 MiB, more than the 16 MiB"):
        load_folder(folder, load_config(own))
    (folder / "training.xlsx").rename(folder / "crm.xlsx")
    own.write_text(own.read_text() + '[sources.accounts]\nsql = "SELECT * FROM read_xlsx(\'crm.xlsx\')"\n')
    with pytest.raises(DataError, match="crm.xlsx: the workbook would expand to 23 MiB"):
        load_folder(folder, load_config(own))
    assert time.monotonic() - started < 10


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab,\"\r\n\u2028\x0c")), max_size=200), st.integers(1, 16))
def test_csv_lines_are_read_as_a_file_reads_them_in_bounded_memory(text, block):
    """The CSV reader takes lines a block at a time (a StringIO of the whole
    file held it at four bytes a character): the same lines, the same ends,
    whatever the block size and wherever a long line falls."""
    import io

    from vga.load.files import _lines

    assert list(_lines(text, block=block)) == list(io.StringIO(text, newline=""))
