"""The README's data dictionary is the one the code declares."""

from pathlib import Path

from vga.contract import dictionary_markdown

ROOT = Path(__file__).resolve().parents[1]


def test_readme_data_dictionary_matches_the_code():
    text = (ROOT / "README.md").read_text()
    start = text.index("<!-- data-dictionary:start -->\n") + len("<!-- data-dictionary:start -->\n")
    end = text.index("<!-- data-dictionary:end -->")
    assert text[start:end] == dictionary_markdown(), "regenerate with: python -m vga.contract"


def test_readme_names_the_two_commands_and_ci_calls_the_test_one():
    text = (ROOT / "README.md").read_text()
    assert "python3.11 tasks.py demo" in text and "python3.11 tasks.py test" in text
    assert "python3.11 tasks.py test" in (ROOT / ".ci" / "run").read_text()


def test_readme_configuration_example_is_valid(tmp_path):
    import re

    from vga.config import load_config

    text = (ROOT / "README.md").read_text()
    block = re.search(r"```toml\n(.*?)```", text, re.S).group(1)
    (tmp_path / "vga.toml").write_text(block)
    config = load_config(tmp_path / "vga.toml")
    assert config["sources"]["accounts"]["columns"]["arr"] == "ARR (EUR)"
    assert config["health"]["max_age_days"]["nps"] == 365 and config["usage"]["weights"]["active_days"] == 1
    assert config["programme"]["workstreams"][0]["due"] == "2026-09-15"
