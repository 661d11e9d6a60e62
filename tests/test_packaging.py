"""The two dependency lists (pyproject.toml and environment.yml) agree."""

import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

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


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel built from a copy of the source tree (as pip builds one)."""
    tmp = tmp_path_factory.mktemp("wheel")
    tree = tmp / "src"
    shutil.copytree(ROOT, tree, symlinks=True, ignore=shutil.ignore_patterns(
        ".git", ".venv", "data", "reports", "test-output", "build", "site", "*.egg-info", "__pycache__"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp / "dist"), str(tree)],
                   check=True, capture_output=True, timeout=600)
    return next((tmp / "dist").glob("vga-*.whl"))


def test_the_wheel_holds_the_source_tree(wheel):
    """Every module of every subpackage, the notebook series and vga init's
    templates are in the wheel, and nothing else of the package's folder."""
    names = {n for n in zipfile.ZipFile(wheel).namelist() if not n.startswith("vga-")}
    package = {str(p.relative_to(ROOT)) for p in (ROOT / "vga").rglob("*.py") if "__pycache__" not in p.parts}
    package |= {f"vga/notebooks/{p.name}" for p in (ROOT / "notebooks").glob("*.ipynb")}
    package |= {f"vga/templates/{p.name}" for p in (ROOT / "vga" / "templates").iterdir()}
    assert names == package
    assert {"vga/load/events.py", "vga/nodes/retention.py", "vga/present/blocks.py", "vga/run/runner.py",
            "vga/notebooks/11_executive_summary.ipynb", "vga/templates/vga.toml"} <= names
    from vga import __version__

    assert wheel.name.startswith(f"vga-{__version__}-")


def readme_commands() -> list[str]:
    """Every command line in the README's shell blocks."""
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```(?:sh|shell|bash|console)\n(.*?)```", text, re.S)
    return [line.strip() for block in blocks for line in block.splitlines()
            if line.strip() and not line.strip().startswith("#")]


def test_the_readme_has_only_commands_a_test_runs():
    """The README's commands are the two project commands (CI runs the test
    one; the demo is the fresh-venv test's example) and vga commands, which
    test_the_wheel_alone_runs_the_readme_example_from_any_folder runs."""
    commands = readme_commands()
    assert "python3.11 tasks.py demo" in commands and "python3.11 tasks.py test" in commands
    assert "python3.11 tasks.py test" in (ROOT / ".ci" / "run").read_text()
    others = [c for c in commands if not c.startswith("python3.11 tasks.py ")]
    assert others and all(re.match(r"(vga|cd) ", part.strip()) for c in others for part in c.split("&&")), others


@pytest.mark.slow
def test_the_wheel_alone_runs_the_readme_example_from_any_folder(wheel, tmp_path):
    """A fresh virtual environment with vga installed from the wheel (not
    editable) runs the README's example in an unrelated folder: vga init,
    vga sample, vga run, each line as written.

    Offline: the dependencies (pandas, jupyter...) come from this test's
    environment through a path file, while vga itself comes only from the
    wheel; the test checks that the vga it ran is the installed one."""
    import sysconfig

    fresh = tmp_path / "fresh"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(fresh)], check=True, timeout=120)
    python = fresh / "bin" / "python"
    site = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    # A path line (not a site dir): the editable install's hooks there are not run.
    Path(site, "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    # nbconvert's templates are data files its install puts under the
    # environment's share/jupyter; no kernel spec is taken from there, so the
    # kernels run the fresh environment's own Python (ipykernel's native spec).
    (fresh / "share" / "jupyter").mkdir(parents=True)
    (fresh / "share" / "jupyter" / "nbconvert").symlink_to(Path(sys.prefix, "share", "jupyter", "nbconvert"))
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index", "-q",
                    str(wheel)], check=True, capture_output=True, timeout=600)
    where = subprocess.run([python, "-c", "import vga, vga.run.series as s; print(vga.__file__); "
                            "print(s.package_notebooks())"], capture_output=True, text=True, cwd=tmp_path, check=True)
    assert where.stdout.splitlines()[0].startswith(site) and str(ROOT) not in where.stdout
    assert Path(where.stdout.splitlines()[1], "03_churned_customers.ipynb").is_file()
    anywhere = tmp_path / "somewhere" / "else"
    anywhere.mkdir(parents=True)
    env = {**os.environ, "PATH": f"{fresh / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    env.pop("PYTHONPATH", None)
    script = " && ".join(c for c in readme_commands() if not c.startswith("python3.11 tasks.py "))
    done = subprocess.run(["bash", "-c", f"set -e; {script}"], capture_output=True, text=True, cwd=anywhere,
                          env=env, timeout=1200)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    reports = list(anywhere.rglob("reports/*/report.html"))
    assert len(reports) == 1 and "Value gap analysis" in reports[0].read_text()
    assert "Traceback" not in done.stderr
