"""Message first, method last: the story after the summary (what was lost,
who, why, what to do), the method in the appendix, and no test name, q
value or configuration key in the story's text."""

from __future__ import annotations

import html
import re

import pytest

from vga.present import report_order
from vga.run.report import METHOD_TERMS, method_section, method_to_appendix


def _text(page: str) -> str:
    page = re.sub(r"<style.*?</style>", "", page, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def test_a_parenthesis_or_sentence_with_a_test_becomes_a_numbered_note():
    notes: list[str] = []
    body = ("<p>Churned accounts used it less (q &lt; 0.001). The curves differ. "
            "A Cox model of time to churn agrees. Nothing else.</p>")
    out = method_to_appendix(body, "Churned customers", notes)
    assert notes == ["Churned customers: q &lt; 0.001", "Churned customers: A Cox model of time to churn agrees."]
    text = _text(out)
    assert "Churned accounts used it less 1 . The curves differ. 2 Nothing else." == text
    assert 'href="#method-1"' in out and 'id="method-ref-2"' in out
    assert method_to_appendix("<p>No method here (45 accounts).</p>", "x", notes) == \
        "<p>No method here (45 accounts).</p>"
    assert len(notes) == 2


def test_a_table_loses_its_statistics_columns_and_keeps_them_in_a_note():
    notes: list[str] = []
    table = ("<table><thead><tr><th>slice</th><th>churn</th><th>q value</th></tr></thead>"
             "<tbody><tr><td>LATAM</td><td>30.2%</td><td>0.004</td></tr>"
             "<tr><td>EMEA</td><td>14.1%</td><td>0.61</td></tr></tbody></table>")
    out = method_to_appendix(f"<div>{table}</div>", "Pattern slicing", notes)
    assert "q value" not in out and "0.004" not in out and "LATAM" in out and "30.2%" in out
    assert notes == [f"Pattern slicing, the table in full: {table}"]
    assert "With its statistics: note" in out
    # a cell that names a test in a parenthesis keeps its words, the test goes to a note
    notes.clear()
    out = method_to_appendix("<table><tr><th>confidence</th></tr><tr><td>high (a test: q &lt; 0.01)</td></tr></table>",
                             "Executive summary", notes)
    assert notes == ["Executive summary: a test: q &lt; 0.01"] and ">high<sup" in out
    section = method_section(notes)
    assert 'id="method-1"' in section and "<details" in section  # folded, opened by a mark's link


def test_the_story_comes_first_and_the_method_last():
    order = [c.key for c in report_order()]
    assert order[0] == "executive_summary"
    assert order.index("churned_customers") < order.index("pattern_slicing") < order.index("voice_of_customer") \
        < order.index("quick_wins")
    assert order[-2:] == ["programme_setup", "data_gathering"]  # the appendix
    assert [c.appendix for c in report_order()] == [False] * (len(order) - 2) + [True, True]


@pytest.mark.slow
def test_the_sample_s_story_names_no_test_q_value_or_key(sample_run):
    """Outside the appendix and the glossary, folded detail included, the
    report's text holds no test name, q or p value or configuration key;
    every mark in the text leads to a note of the appendix, and back."""
    page = (sample_run / "report.html").read_text()
    main = page[page.index("<main>"):]
    story = main[:main.index('<h2 class="vga-appendix-head"')]
    found = sorted({m.group(0) for m in METHOD_TERMS.finditer(_text(story))})
    assert not found, f"method in the story: {found}"
    marks = re.findall(r'href="#method-(\d+)" id="method-ref-\1"', story)
    marks += re.findall(r'id="method-ref-(\d+)">With its statistics: note', story)
    assert len(marks) >= 10
    appendix = main[main.index('<h2 class="vga-appendix-head"'):]
    for n in marks:
        assert f'<li id="method-{n}">' in appendix and f'href="#method-ref-{n}"' in appendix
    assert story.index('id="section-1"') < story.index("Step 3 · Churned customers") < \
        story.index("Step 8 · Quick wins")
    assert appendix.index("Step 1 · Programme set-up") < appendix.index("Step 2 · Data gathering") \
        < appendix.index('id="method"') < appendix.index('id="glossary"')
