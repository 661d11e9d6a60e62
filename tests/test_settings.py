"""vga.settings: the configuration parsed once into typed, frozen sections."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest

from vga.config import DEFAULTS, load_config
from vga.settings import FrozenDict, FrozenList, Settings

PACKAGE = Path(__file__).resolve().parents[1] / "vga"


def test_every_setting_of_the_defaults_is_a_typed_attribute():
    settings = Settings.parse(DEFAULTS)
    for name in Settings.SECTIONS:
        section = getattr(settings, name)
        assert set(section) == set(DEFAULTS[name]), name  # no setting left out, none invented
        for key, value in DEFAULTS[name].items():
            assert getattr(section, key) == value and section[key] == value, (name, key)
    assert settings.analysis.alpha == 0.05 and settings.usage.weights["core_adoption"] == 1.0


def test_a_file_overrides_and_the_rest_are_defaults(tmp_path):
    (tmp_path / "vga.toml").write_text("[analysis]\nalpha = 0.01\n[report]\ncurrency = 'EUR'\n")
    settings = Settings.parse(load_config(None, tmp_path))
    assert (settings.analysis.alpha, settings.analysis.min_accounts, settings.report.currency) == (0.01, 10, "EUR")
    assert settings.file.endswith("vga.toml")
    # a partial mapping, as a test or an analyst gives it: the defaults fill the rest
    assert Settings.parse({"analysis": {"min_accounts": 3}}).analysis.alpha == 0.05
    assert Settings.parse(settings) is settings


def test_settings_cannot_be_changed():
    settings = Settings.parse(DEFAULTS)
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.analysis.alpha = 0.5
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.report = None
    with pytest.raises(TypeError):
        settings.analysis.health_colors.append(99.0)
    with pytest.raises(TypeError):
        settings.quick_wins.playbook["Churn Risk"] = "nothing"
    assert isinstance(settings.analysis.health_colors, FrozenList)
    assert isinstance(settings.quick_wins.playbook, FrozenDict)
    # what the defaults hold is untouched by parsing
    assert DEFAULTS["analysis"]["health_colors"] == [50.0, 70.0, 85.0]


def test_frozen_values_read_as_plain_lists_and_dicts():
    settings = Settings.parse(DEFAULTS)
    text = json.dumps({"playbook": settings.quick_wins.playbook, "colors": settings.analysis.health_colors})
    assert json.loads(text)["colors"] == [50.0, 70.0, 85.0]
    assert list(settings.analysis.health_colors) + [1.0] == [50.0, 70.0, 85.0, 1.0]


def test_nodes_and_chapters_read_settings_as_attributes():
    """No node or presenter indexes the settings by strings: a mistyped
    name fails where it is written, not as a missing key at run time."""
    pattern = re.compile(r"settings\[|settings\.get\(|\b(analysis|cfg|report|rules)\[\"")
    for folder in ("nodes", "present"):
        for path in (PACKAGE / folder).glob("*.py"):
            found = [line for line in path.read_text().splitlines() if pattern.search(line)]
            assert not found, f"{path.name}: {found}"


def test_settings_pickle_and_copy_whole():
    """Outputs holding settings (the playbook) cross processes and are copied."""
    import copy
    import pickle

    settings = Settings.parse(DEFAULTS)
    back = pickle.loads(pickle.dumps({"playbook": settings.quick_wins.playbook, "s": settings}))
    assert back["playbook"] == settings.quick_wins.playbook and isinstance(back["playbook"], FrozenDict)
    assert back["s"].analysis.health_colors == [50.0, 70.0, 85.0]
    assert copy.deepcopy(settings.analysis.health_colors) == [50.0, 70.0, 85.0]
