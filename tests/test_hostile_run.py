"""A whole run on hostile text: contact details, loading constructs and
bidirectional controls planted in every text field of every table and in
the configuration's free text. The run ends; the report is written; no
e-mail address or phone number reaches any file of the run; no control
reorders the report; the words are shown as words."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from vga.contract import ACCOUNT_DIMENSIONS, TABLES
from vga.sample import write_sample

EMAIL, PHONE = "jane.doe@example.org", "+44 20 7946 0958"
LOADS = "see @import notes src=//evil.example href=//evil.example url(//evil.example)"
BIDI = "\u202eevil\u202c"
#: Contact details in the other forms people write them (and that once got through).
OTHER_FORMS = ["+15551234567", "555/123/4567", "555 1234567", "00447946095812", "jane.doe\uff20acme.com",
               "jane.doe@acme", "\uff0b\uff14\uff14 \uff12\uff10 \uff17\uff19\uff14\uff16 \uff10\uff19\uff15\uff18"]
#: Text columns of the contract a run may show (ids, personal and enumerated columns apart).
TEXT = {(t, c.name) for t, spec in TABLES.items() for c in spec.columns
        if c.type == "str" and not c.personal and not c.name.endswith("_id") and c.name != "domain"}


def _plant(text: str, k: int) -> str:
    forms = [f"{text} {EMAIL}", f"{text} call {PHONE}", f"{text} {LOADS}", f"{text}{BIDI}"]
    forms += [f"{text} ({other})" for other in OTHER_FORMS]
    return forms[k % len(forms)]


def _plant_csv(path: Path, columns: set[str]) -> int:
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))
    hit = [i for i, name in enumerate(rows[0]) if name in columns]
    for r, row in enumerate(rows[1:]):
        for i in hit:
            if i < len(row) and row[i] and r % 3 == 0:
                row[i] = _plant(row[i], r)
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator="\n").writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8")
    return len(hit)


@pytest.mark.slow
def test_hostile_text_everywhere_leaves_no_trace(tmp_path):
    data = tmp_path / "data"
    write_sample(data, accounts=80, seed=5)
    planted = 0
    for table in {t for t, _ in TEXT}:
        path = data / f"{table}.csv"
        if path.exists():
            planted += _plant_csv(path, {c for t, c in TEXT if t == table} | set(ACCOUNT_DIMENSIONS))
    # A feature name and the training courses (a workbook) too.
    part = sorted((data / "usage_events").glob("*.parquet"))[0]
    events = pq.read_table(part).to_pandas()
    events.loc[events.index[:50], "feature"] = f"export {EMAIL}"
    pq.write_table(pa.Table.from_pandas(events, preserve_index=False), part)
    training = pd.read_excel(data / "training.xlsx", dtype=str, keep_default_na=False)
    training.loc[training.index[:20], "course"] = f"Basics, ask {EMAIL}"
    training.to_excel(data / "training.xlsx", index=False)
    # The configuration's free text.
    toml = (data / "vga.toml").read_text().replace('sponsor = "Chief Customer Officer"',
                                                   f'sponsor = "Chief Customer Officer ({EMAIL}, {PHONE})"')
    (data / "vga.toml").write_text(toml + f'\n[analysis]\nassumptions = ["owner: {EMAIL}; {LOADS}{BIDI}"]\n')
    assert planted >= 15

    done = subprocess.run([sys.executable, "-m", "vga", "run", "--data", str(data), "--period", "2026Q3",
                           "--out", str(tmp_path / "reports")], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    run = tmp_path / "reports" / "2026Q3"
    for path in run.rglob("*"):
        if path.is_file():
            text = path.read_text(errors="ignore") if path.suffix != ".xlsx" else _workbook_text(path)
            assert EMAIL not in text and "jane.doe" not in text, path
            assert PHONE not in text and "7946 0958" not in text, path
            assert not [o for o in OTHER_FORMS if o in text] and "acme" not in text and "\uff14\uff14" not in text, path
            assert "\u202e" not in text or path.suffix != ".html", path
    page = (run / "report.html").read_text()
    assert "@import notes" in page  # shown as a word, never as a rule
    assert "[redacted]" in page
    manifest = json.loads((run / "manifest.json").read_text())
    assert EMAIL not in json.dumps(manifest)
    assert not list((tmp_path / "reports").glob(".2026Q3*"))  # no partial folder left behind


def _workbook_text(path: Path) -> str:
    import openpyxl

    book = openpyxl.load_workbook(path, read_only=True)
    parts = list(book.sheetnames)
    for sheet in book.worksheets:
        for row in sheet.iter_rows(values_only=True):
            parts += [str(v) for v in row if v is not None]
    book.close()
    return "\n".join(parts)
