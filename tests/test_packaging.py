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


def test_the_wheel_holds_every_module_of_the_package(tmp_path):
    """A wheel built from the source tree carries every subpackage (load,
    analysis, nodes, present, run), not only vga/*.py."""
    import shutil
    import subprocess
    import sys
    import zipfile

    tree = tmp_path / "src"
    shutil.copytree(ROOT, tree, ignore=shutil.ignore_patterns(
        ".git", ".venv", "data", "reports", "test-output", "build", "*.egg-info", "__pycache__"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path / "dist"), str(tree)],
                   check=True, capture_output=True, timeout=600)
    wheel = next((tmp_path / "dist").glob("vga-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    modules = {str(p.relative_to(ROOT)) for p in (ROOT / "vga").rglob("*.py") if "__pycache__" not in p.parts}
    assert modules - names == set()
    assert {"vga/load/events.py", "vga/nodes/retention.py", "vga/present/blocks.py", "vga/run/runner.py"} <= names
    from vga import __version__

    assert wheel.name.startswith(f"vga-{__version__}-")
