"""The docs site: built offline and strict in CI, its generated parts equal
to what the code declares, its examples valid, the README short."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from vga.cli import build_parser
from vga.contract import TABLES, data_dictionary
from vga.errors import EXIT_CODES
from vga.present import chapters
from vga.run.report import GLOSSARY

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def build(root: Path, site: Path) -> subprocess.CompletedProcess:
    """The build ``tasks.py docs`` runs (mkdocs build --strict), from
    ``root`` into ``site``, offline: any request would go to a closed port."""
    import runpy

    tasks = runpy.run_path(str(ROOT / "tasks.py"))
    env = {k: v for k, v in tasks["docs_environment"]().items() if not k.lower().endswith("_proxy")}
    env |= {"HTTP_PROXY": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9", "NO_PROXY": ""}
    return subprocess.run(tasks["docs_command"](["-d", str(site)]), cwd=root, capture_output=True, text=True,
                          env=env, timeout=600)


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site") / "site"
    done = build(ROOT, out)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "WARNING" not in done.stderr + done.stdout
    return out


def text(site: Path, page: str) -> str:
    article = BeautifulSoup((site / page / "index.html").read_text(), "html.parser").select_one("article")
    return " ".join(article.get_text(" ").split())


def test_the_site_has_a_page_per_reader_and_loads_nothing_from_the_network(site):
    for page in ("operations/running", "operations/commands", "operations/troubleshooting",
                 "executives/reading-the-report", "executives/glossary", "analysts/data-contract",
                 "analysts/metrics", "analysts/notebooks", "analysts/api", "analysts/architecture"):
        assert (site / page / "index.html").is_file(), page
    for html in site.rglob("*.html"):
        soup = BeautifulSoup(html.read_text(), "html.parser")
        loads = [t.get("src") for t in soup.find_all(src=True)] + [
            t.get("href") for t in soup.find_all("link") if "stylesheet" in (t.get("rel") or [])]
        assert not [u for u in loads if re.match(r"(https?:)?//", u or "")], html


def test_the_data_contract_page_is_the_contract(site):
    page = text(site, "analysts/data-contract")
    for table in TABLES:
        assert f"{table} ¶" in page or table in page
    for row in data_dictionary().itertuples():
        assert row.column in page and row.description.split("`")[0][:40].strip() in page, (row.table, row.column)


def test_the_commands_page_is_the_parser_and_the_exit_codes(site):
    page = text(site, "operations/commands")
    parser = build_parser()
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    for name, command in sub.choices.items():
        assert f"vga {name}" in page
        for action in command._actions:
            for flag in action.option_strings:
                if action.help != "==SUPPRESS==":
                    assert flag in page, (name, flag)
    for code, when in EXIT_CODES:
        assert f"| {code} |" not in page and f"{code} {when}" in page


def test_the_glossary_and_chapters_come_from_the_code(site):
    page = text(site, "executives/glossary")
    assert all(term in page and sentence in page for _, term, sentence, _ in GLOSSARY)
    home = text(site, "")
    assert all(c.title in home and c.notebook in home for c in chapters().values())
    api = text(site, "analysts/api")
    assert "bh_q_values" in api and "open_chapter" in api and "run_period" in api


def test_a_broken_link_fails_the_build(tmp_path):
    """Strict link checking can fail: one bad anchor and the build stops."""
    copy = tmp_path / "project"
    shutil.copytree(ROOT, copy, symlinks=True, ignore=shutil.ignore_patterns(
        ".git", ".venv", "data", "reports", "test-output", "site", "tests", "benchmarks", "*.egg-info", "__pycache__"))
    os.symlink(ROOT / ".venv", copy / ".venv")
    page = copy / "docs" / "operations" / "running.md"
    page.write_text(page.read_text() + "\nSee [the missing part](commands.md#no-such-section).\n")
    done = build(copy, tmp_path / "site")
    assert done.returncode != 0 and "no-such-section" in done.stdout + done.stderr


def test_the_configuration_example_is_valid(tmp_path):
    from vga.config import load_config

    page = (DOCS / "operations" / "configuration.md").read_text()
    block = re.search(r"```toml\n(.*?)```", page, re.S).group(1)
    (tmp_path / "vga.toml").write_text(block)
    config = load_config(tmp_path / "vga.toml")
    assert config["sources"]["accounts"]["columns"]["arr"] == "ARR (EUR)"
    assert config["health"]["max_age_days"]["nps"] == 365 and config["usage"]["weights"]["active_days"] == 1
    assert config["programme"]["workstreams"][0]["due"] == "2026-09-15"


def test_troubleshooting_quotes_messages_the_code_prints():
    """Each message the troubleshooting page names is one vga prints (the
    words of its first column occur in the package's source)."""
    source = "\n".join(p.read_text() for p in (ROOT / "vga").rglob("*.py"))
    rows = re.findall(r"^\| `([^`]+)` \| (\d+) \|", (DOCS / "operations" / "troubleshooting.md").read_text(), re.M)
    assert len(rows) >= 15
    codes = {code for code, _ in EXIT_CODES}
    for words, code in rows:
        assert all(part.strip() in source for part in words.split("...")), words
        assert int(code) in codes


def test_the_readme_is_short_and_links_only_to_what_exists():
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) <= 250
    links = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", readme)
    assert links and all((ROOT / link).exists() for link in links if not link.startswith("http")), links
    assert "python3.11 tasks.py demo" in readme and "python3.11 tasks.py test" in readme
    assert "python3.11 tasks.py test" in (ROOT / ".ci" / "run").read_text()


def _blocks(page: str, lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", (DOCS / page).read_text(), re.S)


def test_the_api_pages_python_example_computes_a_period(tmp_path):
    """The API page's example, run as written on a small sample."""
    from vga.sample import write_sample

    write_sample(tmp_path / "exports", accounts=150, seed=4, minimal=True)
    code = _blocks("analysts/api.md", "python")[0]
    scope: dict = {}
    old = os.getcwd()
    os.chdir(tmp_path)
    try:
        exec(compile(code, "api.md", "exec"), scope)
    finally:
        os.chdir(old)
    outputs = scope["outputs"]
    assert outputs["summary.json"]["accounts_total"] == 150  # the sample's 150 accounts, read from exports/
    assert 0 < len(outputs["quadrants.csv"]) <= 150 and set(outputs["quadrants.csv"]["quadrant"]) - {"Unscored"}


def test_the_notebook_pages_examples_are_the_notebooks_own(tmp_path):
    """The parameters cell and the opening cells shown are those of the
    quadrant notebook; its papermill commands run as written."""
    import nbformat

    from vga.run.series import package_notebooks
    from vga.sample import write_sample

    parameters, opening = _blocks("analysts/notebooks.md", "python")[:2]
    book = nbformat.read(package_notebooks() / "07_quadrant_view.ipynb", as_version=4)
    code = [c.source for c in book.cells if c.cell_type == "code"]
    assert parameters.strip() == code[0].strip()
    source = "\n".join(code)
    assert all(line in source for line in opening.strip().splitlines() if line.strip())
    write_sample(tmp_path / "exports", accounts=150, seed=4, minimal=True)
    bin_dir = Path(sys.executable).parent
    for line in _blocks("analysts/notebooks.md", "bash")[0].strip().splitlines():
        command = (line.split("  #")[0].replace(".venv/bin/", f"{bin_dir}/")
                   .replace("/tmp/07.ipynb", str(tmp_path / "07.ipynb")).replace(" exports/", f" {tmp_path}/exports/"))
        done = subprocess.run(["bash", "-c", command], cwd=ROOT, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-2000:]
    assert (tmp_path / "07.ipynb").is_file()
