"""Recompute only what changed (vga.run.reuse): a node is reused when its
data, code, the nodes it needs and every setting it read are unchanged;
what is reused gives the same results as computing afresh."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from vga.config import load_config
from vga.load import load_folder, to_inputs
from vga.nodes import NODES
from vga.periods import parse_period
from vga.present import View, blocks_of, chapters
from vga.run import pipeline
from vga.run.opened import shown_outputs
from vga.run.reuse import NodeCache, data_fingerprint, recording_settings
from vga.sample import write_sample
from vga.settings import Analysis, Settings

PERIOD = parse_period("2026Q3")


def test_a_nodes_fingerprint_is_the_same_in_every_process():
    """A node's compute function (nested code and all) prints the same in a
    fresh process: a rerun in another process must find its kept results."""
    import subprocess
    import sys

    from vga.run.reuse import compute_fingerprint

    here = {key: compute_fingerprint(node) for key, node in NODES.items()}
    there = subprocess.run([sys.executable, "-c", "import json; from vga.nodes import NODES; from vga.run.reuse import "
                            "compute_fingerprint; print(json.dumps({k: compute_fingerprint(n) for k, n in NODES.items()}))"],
                           capture_output=True, text=True, check=True).stdout
    assert json.loads(there) == here and len(set(here.values())) == len(NODES)


def test_the_settings_a_node_reads_are_recorded_and_look_the_same():
    settings = Settings.parse(load_config())
    recorded, reads = recording_settings(settings)
    assert isinstance(recorded, Settings) and isinstance(recorded.analysis, Analysis)
    assert recorded.analysis.alpha == settings.analysis.alpha and list(recorded["usage"]["core_features"]) == []
    assert recorded.analysis["min_accounts"] == settings.analysis.min_accounts
    assert reads == {"analysis.alpha": settings.analysis.alpha, "usage.core_features": [],
                     "analysis.min_accounts": settings.analysis.min_accounts}
    assert dict(recorded.report) == dict(settings.report) and "report.currency" in reads  # a whole section: every key


@pytest.fixture(scope="module")
def company(tmp_path_factory):
    folder = tmp_path_factory.mktemp("reuse") / "data"
    write_sample(folder, accounts=160, seed=5)
    return folder


def _compute(folder: Path, config: dict, cache_dir: Path | None):
    loaded = load_folder(folder, config)
    inputs = to_inputs(loaded)
    cache = None
    if cache_dir is not None:
        from vga.analysis.coverage import assess

        coverage = assess(loaded.sources(), PERIOD.as_of, config["analysis"])
        cache = NodeCache(cache_dir, data_fingerprint(loaded.manifest(), config, PERIOD.label, coverage.as_dict()))
    outputs, _ = pipeline.compute(inputs, PERIOD, config, cache=cache)
    return outputs, cache


def _written(outputs: dict, folder: Path) -> dict[str, object]:
    """Each output as written to results/ (bytes; a workbook's sheets as frames: its zip holds a time)."""
    pipeline.write(outputs, folder)
    return {p.name: (pd.read_excel(p, sheet_name=None) if p.suffix == ".xlsx" else p.read_bytes())
            for p in sorted(folder.iterdir())}


def _same(a: dict, b: dict) -> None:
    assert set(a) == set(b)
    for name in a:
        if isinstance(a[name], dict):
            assert a[name].keys() == b[name].keys(), name
            for sheet in a[name]:
                pd.testing.assert_frame_equal(a[name][sheet], b[name][sheet])
        else:
            assert a[name] == b[name], name


def _downstream(keys: set[str]) -> set[str]:
    found = set(keys)
    changed = True
    while changed:
        changed = False
        for node in NODES.values():
            if node.key not in found and found & set(node.needs):
                found.add(node.key)
                changed = True
    return found


@pytest.mark.slow
def test_a_changed_setting_recomputes_only_the_nodes_that_read_it(company, tmp_path):
    config = load_config(None, company)
    cache_dir = tmp_path / "cache"
    first, cache = _compute(company, config, cache_dir)
    assert sorted(cache.computed) == sorted(NODES) and cache.reused == []
    # The same again: every node reused, the results the same.
    again, cache = _compute(company, config, cache_dir)
    assert sorted(cache.reused) == sorted(NODES) and cache.computed == []
    _same(_written(first, tmp_path / "first"), _written(again, tmp_path / "again"))
    # The usage threshold raised: the nodes whose traces read it, and those downstream, compute; no other.
    readers = {p.parent.name for p in cache_dir.glob("*/trace.json")
               if "analysis.usage_threshold" in json.loads(p.read_text())["reads"]}
    assert "quadrant_view" in readers and "retention" not in readers
    changed = load_config(None, company) | {"analysis": {**config["analysis"], "usage_threshold": 65.0}}
    moved, cache = _compute(company, changed, cache_dir)
    assert set(cache.computed) == _downstream(readers)
    assert {"retention", "programme_setup", "data_gathering"} <= set(cache.reused)
    # ...and what it gives is what computing everything afresh gives.
    fresh, _ = _compute(company, changed, None)
    _same(_written(moved, tmp_path / "moved"), _written(fresh, tmp_path / "fresh"))
    assert not moved["quadrants.csv"].equals(first["quadrants.csv"])  # the threshold did change something


@pytest.mark.slow
def test_a_changed_data_file_recomputes_everything(company, tmp_path):
    config = load_config(None, company)
    data = tmp_path / "data"
    shutil.copytree(company, data)
    _compute(data, config, tmp_path / "cache")
    accounts = pd.read_csv(data / "accounts.csv", dtype=str, keep_default_na=False)
    accounts.loc[0, "arr"] = str(float(accounts.loc[0, "arr"]) + 1000)
    accounts.to_csv(data / "accounts.csv", index=False)
    _, cache = _compute(data, config, tmp_path / "cache")
    assert sorted(cache.computed) == sorted(NODES) and cache.reused == []


@pytest.mark.slow
def test_a_changed_code_or_a_spoilt_cache_recomputes(company, tmp_path, monkeypatch):
    config = load_config(None, company)
    _compute(company, config, tmp_path / "cache")
    (tmp_path / "cache" / "retention" / "trace.json").write_text("{not json")
    (tmp_path / "cache" / "survival" / "survival.json").unlink(missing_ok=True)
    for path in (tmp_path / "cache" / "survival").iterdir():
        if path.name != "trace.json":
            path.unlink()
            break
    _, cache = _compute(company, config, tmp_path / "cache")
    assert {"retention", "survival"} <= set(cache.computed)
    import vga.run.reuse as reuse

    monkeypatch.setattr(reuse, "code_fingerprint", lambda: "another version")
    _, cache = _compute(company, config, tmp_path / "cache")
    assert sorted(cache.computed) == sorted(NODES)


def test_every_presenter_reads_only_the_settings_its_chapter_declares(sample_outputs):
    """What a chapter's notebook depends on is declared (Chapter.reads): a
    setting a presenter reads undeclared would leave a reused notebook stale."""
    settings = Settings.parse(load_config())
    for chapter in chapters().values():
        recorded, reads = recording_settings(settings)
        view = View(chapter, PERIOD, recorded, {n: sample_outputs.get(n) for n in shown_outputs(chapter)},
                    "run")
        show = __import__(chapter.presenter, fromlist=["_"])
        for block in blocks_of(chapter):
            getattr(show, block)(view)
        assert set(reads) <= {"report.currency", *chapter.reads}, (chapter.key, set(reads) - set(chapter.reads))
        assert chapter.reads == () or set(chapter.reads) & set(reads), chapter.key  # declared, and read


@pytest.mark.slow
def test_a_rerun_reuses_steps_and_notebooks_and_the_manifest_says_so(company, tmp_path):
    from vga.run.runner import run_period

    out = tmp_path / "reports"
    first = run_period(company, "2026Q3", out=out, quiet=True)
    report = (first / "report.html").read_text()
    run_period(company, "2026Q3", out=out, quiet=True, force=True)
    manifest = json.loads((out / "2026Q3" / "manifest.json").read_text())
    assert sorted(manifest["reused"]["steps"]) == sorted(NODES)
    assert sorted(manifest["reused"]["notebooks"]) == sorted(c.notebook for c in chapters().values())
    again = (out / "2026Q3" / "report.html").read_text()
    strip = lambda page: page.split("<footer>")[0]  # noqa: E731 (the footer holds the time it was made)
    assert strip(again) == strip(report)
    mine = tmp_path / "vga.toml"
    mine.write_text((company / "vga.toml").read_text() + "\n[analysis]\nusage_threshold = 65\n")
    run_period(company, "2026Q3", out=out, quiet=True, force=True, config_path=mine)
    shutil.copyfile(_threshold(mine, tmp_path / "v2.toml", 70), mine)  # the same file, one setting changed
    run_period(company, "2026Q3", out=out, quiet=True, force=True, config_path=mine)
    manifest = json.loads((out / "2026Q3" / "manifest.json").read_text())
    assert "retention" in manifest["reused"]["steps"] and "quadrant_view" not in manifest["reused"]["steps"]
    assert "01_programme_setup" in manifest["reused"]["notebooks"]
    assert "07_quadrant_view" not in manifest["reused"]["notebooks"]
    fresh = run_period(company, "2026Q3", out=tmp_path / "fresh", quiet=True,
                       config_path=tmp_path / "v2.toml")
    for path in sorted((fresh / "results").iterdir()):
        if path.suffix != ".xlsx":
            assert path.read_bytes() == (out / "2026Q3" / "results" / path.name).read_bytes(), path.name


def _threshold(source: Path, target: Path, value: int) -> Path:
    target.write_text(source.read_text().replace("usage_threshold = 65", f"usage_threshold = {value}"))
    return target
