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
