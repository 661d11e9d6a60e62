"""A run's shape and the trust defects it must not have: coverage, secrets,
sharing, reasons with examples, input problems first, a quiet console, and
results that read back exactly."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from vga.run import pipeline
from vga.run.results import _clean
from vga.nodes import NODES

from .helpers import accounts, write_csv


def vga(*args, env=None):
    return subprocess.run([sys.executable, "-m", "vga", *map(str, args)], capture_output=True, text=True,
                          env=env and dict(os.environ, **env))


def test_results_read_back_exactly_as_computed(sample_outputs, tmp_path):
    """Notebooks present what the steps computed: every output, value for value."""
    outputs = sample_outputs
    pipeline.write(outputs, tmp_path)
    for step in NODES.values():
        for out in step.outputs:
            value, back = outputs[out.name], pipeline.read(tmp_path, out.name)
            if value is None:
                assert back is None, out.name
            elif out.is_workbook:  # one sheet per owner; cells as a spreadsheet shows them
                assert list(back) == list(value), out.name
                for owner, sheet in value.items():
                    assert back[owner].shape == sheet.shape, (out.name, owner)
                    assert (back[owner]["account_id"].astype(str).to_numpy() == sheet["account_id"].to_numpy()).all()
                    money = "arr_at_stake" if "arr_at_stake" in sheet.columns else "arr"  # a CSM's sheet, or Do first's
                    np.testing.assert_array_equal(back[owner][money].astype(float), sheet[money])
            elif isinstance(value, dict):
                # NaN is written as null (JSON has no NaN): compare with that
                assert back == json.loads(json.dumps(_clean(value), default=str)), out.name
            else:
                assert list(back.columns) == list(value.columns) and len(back) == len(value), out.name
                for col in value.columns:
                    a, b = value[col], back[col]
                    if pd.api.types.is_float_dtype(a):
                        assert np.array_equal(a.to_numpy(float), b.to_numpy(float), equal_nan=True), (out.name, col)
                    elif pd.api.types.is_datetime64_any_dtype(a):
                        assert (a.dt.normalize().fillna(pd.Timestamp(0)) == b.fillna(pd.Timestamp(0))).all(), (out.name, col)
                    else:
                        assert (a.fillna("").astype(str).to_numpy() == b.fillna("").astype(str).to_numpy()).all(), (out.name, col)


@pytest.mark.slow
def test_a_period_past_the_data_reports_no_figures(minimal_dir, minimal_run, tmp_path):
    """The minimal sample ends on 2026-10-31: 2030Q1 must not read as 'no churn, NRR 100%'. Refused with
    exit 3 (the documented code for a period the data does not cover) unless --allow-partial."""
    refused = vga("run", "--data", minimal_dir, "--period", "2030Q1", "--out", tmp_path)
    assert refused.returncode == 3, refused.stderr
    assert "does not cover 2030Q1" in refused.stderr and "--allow-partial" in refused.stderr
    assert "Traceback" not in refused.stderr and not (tmp_path / "2030Q1").exists()
    done = vga("run", "--data", minimal_dir, "--period", "2030Q1", "--out", tmp_path, "--allow-partial")
    assert done.returncode == 0, done.stderr
    assert "warning: Figures as of 2030-03-31 are not reported: the data ends on 2026-10-31" in done.stdout
    run = tmp_path / "2030Q1"
    summary = json.loads((run / "results/summary.json").read_text())
    for key in ("nrr", "grr", "logo_churn_rate", "arr_churned", "arr_contracted", "arr_expanded", "arr_total",
                "active_accounts", "cohort_accounts"):
        assert summary[key] is None, key
    assert all(v == {"accounts": None, "arr": None} for v in summary["quadrants"].values())
    assert "2026-10-31" in summary["null_reasons"]["retention"] and summary["accounts_total"] == 240
    assert summary["coverage"]["data_end"] == "2026-10-31" and summary["coverage"]["covers_as_of"] is False
    assert pd.read_csv(run / "results/quadrants.csv").empty
    assert not (run / "results/slices.csv").exists()
    page = (run / "report.html").read_text()
    first_section = page.index('<section class="vga-section"')
    assert page.index("Figures as of 2030-03-31 are not reported") < first_section  # the first screen says so
    assert page.count("Figures as of 2030-03-31 are not reported") == 1  # and says it once...
    assert page.count("the data ends on 2026-10-31") == 1  # ...the sections point to it
    assert "NRR 100" not in page and "100.0%" not in page
    # And a period the data covers still gives numbers (nothing nulled where nothing is missing).
    covered = json.loads((minimal_run / "results/summary.json").read_text())  # 2026Q3, inside the data
    assert covered["coverage"]["covers_as_of"] is True and covered["warnings"] == []
    assert covered["null_reasons"].get("retention") is None
    assert covered["nrr"] is not None and covered["cohort_accounts"] > 0


def test_coverage_follows_activity_logs_and_configuration():
    from datetime import date

    from vga.analysis.coverage import assess

    sources = pd.DataFrame([
        {"table": "renewals", "last_date": "2026-10-30"},
        {"table": "surveys", "last_date": "2026-08-01"},
        {"table": "interviews", "last_date": "2027-05-01"},  # planned dates do not extend the data
        {"table": "accounts", "last_date": None},
    ])
    c = assess(sources, date(2026, 12, 31))
    assert c.data_end == date(2026, 10, 30) and not c.covers_as_of and "2026-10-30" in c.reason
    ok = assess(sources, date(2026, 9, 30))
    assert ok.covers_as_of and ok.reason is None
    assert ok.stale == (("surveys", date(2026, 8, 1)),)
    assert any("surveys ends on 2026-08-01, 60 days before" in w for w in ok.warnings())
    assert assess(sources, date(2026, 12, 31), {"data_end": "2027-01-31"}).covers_as_of  # the user vouches for the data's end
    unknown = assess(sources[sources["table"] == "accounts"], date(2030, 1, 1))
    assert unknown.data_end is None and unknown.covers_as_of and "unknown" in unknown.warnings()[0]


def test_validate_shows_each_kind_of_reason_with_a_real_example(tmp_path):
    accounts(tmp_path, [["A1", "100", "EMEA", "2020-01-01"], ["A2", "lots", "NA", ""], ["A3", "-5", "NA", ""],
                        ["A1", "7", "NA", ""]])
    write_csv(tmp_path, "renewals", ["account_id", "renewal_date", "arr_before", "arr_after", "outcome"],
              [["A1", "2026-01-01", "100", "80", "expanded"]])
    done = vga("validate", "--data", tmp_path)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "quarantined 2x  arr: not a number >= 0" in out  # the kind, counted once for both rows
    assert "e.g. arr: expected a number >= 0, found 'lots'" in out  # one real example
    assert "e.g. outcome 'expanded' but arr_after '80' < arr_before '100', so it is 'downgraded'" in out
    assert "'…'" not in out  # no riddles
    assert "data runs to 2026-01-01" in out


@pytest.mark.slow
def test_run_folders_honour_the_umask_the_console_stays_quiet_and_input_problems_come_first(tmp_path):
    """One run, then two that must not start: a mistyped data folder is
    named before the existing period is (input problems before output ones)."""
    accounts(tmp_path / "data")
    out = tmp_path / "reports"
    old = os.umask(0o022)
    try:
        done = vga("run", "--data", tmp_path / "data", "--period", "2026Q3", "--out", out)
    finally:
        os.umask(old)
    assert done.returncode == 0, done.stderr
    run = out / "2026Q3"
    assert stat.S_IMODE(run.stat().st_mode) == 0o755
    assert stat.S_IMODE((run / "report.html").stat().st_mode) == 0o644
    console = done.stdout + done.stderr
    assert "TCP" not in console and "WARNING" not in console and "Traceback" not in console
    assert [p.name for p in out.glob(".*")] == [".vga-cache"]  # no leftovers beside the run and its kept results
    mistyped = vga("run", "--data", tmp_path / "dta", "--period", "2026Q3", "--out", out)
    assert mistyped.returncode == 2 and "does not exist" in mistyped.stderr and "already exists" not in mistyped.stderr
    again = vga("run", "--data", tmp_path / "data", "--period", "2026Q3", "--out", out)
    assert again.returncode == 2 and "already exists" in again.stderr


def test_a_warehouse_password_never_reaches_a_message(tmp_path):
    accounts(tmp_path)
    (tmp_path / "vga.toml").write_text('[warehouse]\nurl_env = "VGA_TEST_SECRET_URL"\n')
    own = ["--config", tmp_path / "vga.toml"]  # a warehouse comes only from the user's own configuration
    done = vga("validate", "--data", tmp_path, *own, env={"VGA_TEST_SECRET_URL": "postgresql://me:s3cret@127.0.0.1:9/db"})
    assert done.returncode == 1
    assert "127.0.0.1:9" in done.stderr and "s3cret" not in done.stderr + done.stdout
    unset = vga("validate", "--data", tmp_path, *own)
    assert unset.returncode == 2 and "VGA_TEST_SECRET_URL" in unset.stderr


def test_redaction_of_urls_and_configuration():
    from vga.config import redact_url, redacted

    assert redact_url("postgresql://me:s3cret@db.example:5432/vga") == "postgresql://me:***@db.example:5432/vga"
    assert redact_url("postgresql://me@db/vga") == "postgresql://me@db/vga"
    config = {"warehouse": {"url": "postgresql://me:s3cret@db/vga"}, "_file": "x"}
    assert "s3cret" not in json.dumps(redacted(config)) and config["warehouse"]["url"].endswith("s3cret@db/vga")


def test_programme_workstreams_are_late_by_their_dates_not_their_label(tmp_path):
    from datetime import date

    from vga.config import load_config
    from vga.errors import UsageError
    from vga.sample import SAMPLE_PROGRAMME
    from vga.nodes.programme_setup import workstreams
    from vga.settings import Settings

    (tmp_path / "vga.toml").write_text(SAMPLE_PROGRAMME)
    programme = Settings.parse(load_config(tmp_path / "vga.toml")).programme
    frame = workstreams(programme, date(2026, 9, 30)).set_index("name")
    assert frame.loc["Onboarding fix", "late"] and frame.loc["Onboarding fix", "status"] == "late"  # typed "on track"
    assert frame.loc["Onboarding fix", "days_to_due"] == -15
    assert not frame.loc["Data gathering", "late"]  # done before its due date: never late
    assert frame.loc["Frustrated Power User saves", "status"] == "at risk"
    assert not workstreams(programme, date(2026, 7, 1))["late"].any()  # nothing due yet
    (tmp_path / "bad.toml").write_text('[[programme.workstreams]]\nname = "x"\nowner = "y"\ndue = "31/12/2026"\n')
    with pytest.raises(UsageError, match="workstream 1 .* due = '31/12/2026' is not an ISO date"):
        load_config(tmp_path / "bad.toml")


@pytest.mark.slow
def test_the_programme_step_shows_late_work_or_how_to_set_it_up(sample_run, minimal_run):
    page = (sample_run / "report.html").read_text()
    assert "Programme set-up" in page and "Chief Customer Officer" in page
    assert "1 of 3 workstreams are past their due date as of 2026-09-30" in page
    streams = pd.read_csv(sample_run / "results/workstreams.csv", keep_default_na=False)
    assert list(streams.loc[streams["late"] == True, "name"]) == ["Onboarding fix"]  # noqa: E712
    assert "No programme is configured" in (minimal_run / "report.html").read_text()
    assert not (minimal_run / "results/workstreams.csv").exists()


def test_an_empty_events_folder_is_named_not_a_traceback(tmp_path):
    """An export whose usage_events folder holds no file: one line naming
    the folder, exit 1 (the data fails), the same with and without the store."""
    accounts(tmp_path / "data")
    (tmp_path / "data" / "usage_events").mkdir()
    done = vga("run", "--data", tmp_path / "data", "--period", "2026Q3", "--out", tmp_path / "reports")
    assert done.returncode == 1, done.stderr
    assert "usage_events/: folder holds no .parquet files" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "reports" / "2026Q3").exists()


@pytest.mark.parametrize("name", ["_ts", "reason", "_u_user", "source_row"])
def test_an_events_column_named_as_the_rules_own_is_refused_by_name(tmp_path, name):
    """A hostile or unlucky export with a column the event rules name for
    themselves: refused with the column's name, never a binder error or a
    quarantine that shows the rules' value as the export's."""
    accounts(tmp_path / "data")
    (tmp_path / "data" / "usage_events.csv").write_text(
        f"timestamp,account_id,user_id,feature,{name}\n2026-09-01T10:00:00Z,A1,u1,dashboards,x\n")
    done = vga("validate", "--data", tmp_path / "data")
    assert done.returncode == 1, done.stderr
    assert f"usage_events has a column named '{name}'" in done.stderr and "Traceback" not in done.stderr


def test_the_warehouse_refuses_the_same_names_but_keeps_its_own_source_columns():
    from vga.load.event_rules import reserved_name_message

    assert "'_account'" in reserved_name_message("warehouse table t", ["timestamp", "_account"])
    assert reserved_name_message("warehouse table t", ["timestamp", "source_row"]) is None
