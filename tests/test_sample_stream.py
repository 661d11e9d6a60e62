"""A large sample company is written with its events streamed in chunks
(bounded memory): the same contract, the same planted bad rows."""

from __future__ import annotations

import pandas as pd

from vga import sample
from vga.config import load_config
from vga.load import load_folder


def test_a_streamed_sample_writes_its_events_in_parts_and_reads_true(tmp_path, monkeypatch):
    monkeypatch.setattr(sample, "EVENT_CHUNK_ACCOUNTS", 100)
    out = tmp_path / "big"
    truth = sample.write_sample(out, accounts=300, seed=3, stream_above=100)
    parts = sorted((out / "usage_events").glob("*.parquet"))
    assert len(parts) == truth["events_streamed_in_chunks"] == 4  # three chunks of accounts, then the bad rows
    loaded = load_folder(out, load_config(None, out))
    events = loaded.tables["usage_events"]
    assert events.quality["rows_read"] == truth["rows_written"]["usage_events"]
    assert events.quality["rows_quarantined"] == truth["bad_rows"]["usage_events"]["quarantined"] == 14
    reasons = loaded.reasons()
    counts = reasons[reasons["table"] == "usage_events"].set_index("kind")["count"]
    assert sorted(counts.astype(int)) == sorted(truth["bad_rows"]["usage_events"]["reasons"].values())
    assert any("could not be resolved" in kind for kind in counts.index)
    # Every chunk's accounts have events; no session or guest id spans two accounts.
    frame = pd.concat(pd.read_parquet(p) for p in parts[:-1])
    assert frame["account_id"].replace("", pd.NA).dropna().nunique() >= 250
    tied = frame[frame["account_id"] != ""]
    assert (tied.groupby("session_id")["account_id"].nunique() == 1).all()
    guests = frame[frame["user_id"].str.startswith("guest-")]
    assert guests["user_id"].is_unique


def test_a_small_sample_is_not_streamed(tmp_path):
    truth = sample.write_sample(tmp_path / "s", accounts=120, seed=3)
    assert "events_streamed_in_chunks" not in truth
    assert not list((tmp_path / "s" / "usage_events").glob("part-*.parquet"))
