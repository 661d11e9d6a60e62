"""Real exports through a mapping file alone: the shipped examples.

The public datasets are not copied into the project: they are read where
they are (``../shared/data/real`` beside the repository, or the folder named
by ``VGA_REAL_DATA``), unchanged.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pytest

from vga.errors import DataError
from vga.runner import run_period

ROOT = Path(__file__).resolve().parents[1]
CANDIDATES = [Path(os.environ["VGA_REAL_DATA"])] if os.environ.get("VGA_REAL_DATA") else [
    ROOT.parent / "shared" / "data" / "real", Path("/work/shared/data/real")]
REAL = next((p for p in CANDIDATES if p.is_dir()), None)
needs_real = pytest.mark.skipif(REAL is None, reason=f"the public datasets are not at {CANDIDATES[0]}")


@needs_real
@pytest.mark.slow
def test_ibm_telco_runs_through_its_mapping_and_states_the_known_facts(tmp_path):
    config = ROOT / "data" / "examples" / "ibm-telco-churn" / "vga.toml"
    run = run_period(REAL / "ibm-telco-churn", "2019Q3", config_path=config, out=tmp_path, quiet=True)
    summary = json.loads((run / "results" / "summary.json").read_text())
    assert summary["accounts_total"] == 7043 and summary["cohort_accounts"] == 7043
    assert round(summary["logo_churn_rate"] * 7043) == 1869
    assert summary["logo_churn_rate"] == pytest.approx(0.2654, abs=5e-5)
    slices = pd.read_csv(run / "results" / "slices.csv", dtype=str, keep_default_na=False)
    contract = slices[slices["dimension"] == "contract"].set_index("value")
    expected = {"Month-to-month": (3875, 1655), "One year": (1473, 166), "Two year": (1695, 48)}
    for value, (accounts, churned) in expected.items():
        assert (int(contract.loc[value, "accounts"]), int(contract.loc[value, "churned"])) == (accounts, churned)
        assert contract.loc[value, "flagged"] == "true"
    from bs4 import BeautifulSoup

    page = BeautifulSoup((run / "report.html").read_text(), "html.parser").get_text(" ")
    assert "Assumed by the data's mapping: the snapshot is as of 2019-09-30" in page
    manifest = json.loads((run / "manifest.json").read_text())
    accounts = next(i for i in manifest["inputs"] if i["table"] == "accounts")
    assert accounts["path"].startswith("[sources.accounts] sql")  # the mapping, and the file it read, with its hash
    assert [Path(f["path"]).name for f in accounts["files"]] == ["Telco-Customer-Churn.csv"]
    assert len(accounts["files"][0]["sha256"]) == 64


def test_a_failing_mapping_query_names_its_line(tmp_path):
    from vga.config import load_config
    from vga.load import load_folder

    (tmp_path / "export.csv").write_text("id,amount\na,10\n")
    (tmp_path / "vga.toml").write_text(
        '[analysis]\nalpha = 0.05\n\n[sources.accounts]\nsql = """\nSELECT id AS account_id, amont AS arr FROM read_csv(\'export.csv\')\n"""\n')
    with pytest.raises(DataError, match=r"vga.toml line 5 \(\[sources.accounts\] sql\): the query failed: .*amont"):
        load_folder(tmp_path, load_config(tmp_path / "vga.toml"))
    (tmp_path / "vga.toml").write_text(
        '[sources.accounts]\nsql = "SELECT id AS account_id, CAST(amount AS DOUBLE) AS arr FROM read_csv(\'export.csv\')"\n')
    loaded = load_folder(tmp_path, load_config(tmp_path / "vga.toml"))
    accounts = loaded.tables["accounts"].accepted
    assert list(accounts["account_id"]) == ["a"] and list(accounts["arr"]) == [10.0]
