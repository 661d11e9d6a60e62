"""The two dependency lists (pyproject.toml and environment.yml) agree."""

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _environment_pip_lines() -> list[str]:
    lines, inside = [], False
    for raw in (ROOT / "environment.yml").read_text().splitlines():
        stripped = raw.strip()
        if stripped.startswith("- pip:"):
            inside = True
            continue
        if inside and stripped.startswith("- "):
            lines.append(stripped[2:].strip())
        elif inside and stripped and not stripped.startswith("#"):
            inside = False
    return lines


def test_environment_yml_lists_exactly_the_pyproject_dependencies():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = list(project["dependencies"]) + list(project["optional-dependencies"]["dev"])
    listed = _environment_pip_lines()
    assert listed, "environment.yml has no pip section"
    assert sorted(listed) == sorted(declared)
