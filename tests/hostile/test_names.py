"""People's names and contact details, and names as text: contact details in
any written form are masked; a redacted reports folder handed to an outsider
holds no name, nor the key that would undo the pseudonyms; a name is drawn
as the characters it holds, whatever they are."""

from __future__ import annotations

import csv
import io
import re

import pandas as pd
import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from vga.privacy import mask_contacts
from vga.sample import write_sample
from vga.spreadsheet import sheet_names

from .common import every_text, vga

#: The forms that reached the report, results, manifest and a sheet name.
CONTACTS = ["+15551234567", "555/123/4567", "555 1234567", "00447946095812", "jane.doe＠acme.com", "jane.doe@acme",
            "+44 20 7946 0958", "(555) 123-4567", "+1 (555) 123-4567", "555.123.4567", "jane [at] acme [dot] com",
            "＋４４ ２０ ７９４６ ０９５８", "call 15551234567", "0044 20 7946 0958", "jane.doe@acme.co.uk"]
#: What is not a contact and must stay as it is.
NOT_CONTACTS = ["2026-09-30", "30/09/2026", "1,234,567", "1 234 567 890", "1.234.567.890", "Order 1234567890",
                "2024 2025", "10 000", "2026-09-30 12:00:00", "INV-2026-000123456", "price; see @import notes",
                "Mid$\\fakecmd$Market", "ARR 12,500,000.50", "v1.2.3", "Q3 2026: 1500 accounts"]


@pytest.mark.parametrize("contact", CONTACTS)
def test_contact_details_in_any_written_form_are_masked(contact):
    masked = mask_contacts(f"Acme ({contact}) renewal")
    assert "[redacted]" in masked and masked.startswith("Acme") and masked.endswith("renewal")
    digits = re.sub(r"\D", "", contact)
    assert len(digits) < 9 or digits not in re.sub(r"\D", "", masked), masked
    assert "jane" not in masked
    assert all("redacted" in name or name.startswith("Acme") for name in sheet_names([mask_contacts(contact)]).values()
               if name) or sheet_names([mask_contacts(contact)]) == {mask_contacts(contact): "[redacted]"}


@pytest.mark.parametrize("text", NOT_CONTACTS)
def test_dates_amounts_and_ids_are_not_contacts(text):
    assert mask_contacts(text) == text


_SEPARATORS = st.sampled_from([" ", "-", ".", "/", ""])


@st.composite
def phone_numbers(draw):
    """A phone number as people write one: +CC, 00CC or a trunk 0, then
    groups of 2 to 4 digits (9 to 15 digits in all), one separator or none
    (none only after an international prefix)."""
    prefix = draw(st.sampled_from(["+44 ", "+1 ", "0044 ", "+49", "0"]))
    total = draw(st.integers(min_value=9, max_value=15)) - sum(c.isdigit() for c in prefix)
    digits = draw(st.text("0123456789", min_size=total, max_size=total))
    cuts, at = [], 0
    while at < len(digits):
        step = draw(st.integers(min_value=2, max_value=4))
        cuts.append(digits[at:at + step])
        at += step
    sep = draw(_SEPARATORS if prefix.startswith(("+", "00")) else _SEPARATORS.filter(bool))
    return prefix + sep.join(cuts)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(phone_numbers(), st.text(alphabet=st.characters(blacklist_categories=("Cs", "Nd")), max_size=20),
       st.sampled_from(["call ", "tel: ", "", "ask Jane on ", "("]))
@example(number="010 000 000", words="", lead="call ")  # once read as an amount (1,000,000 written with spaces)
@example(number="0044 10000000000", words="¹", lead="call ")  # a digit after it (NFKC makes ¹ a 1) made it 16 digits
def test_a_phone_number_never_survives_whatever_surrounds_it(number, words, lead):
    masked = mask_contacts(f"{words} {lead}{number} {words}")
    digits = re.sub(r"\D", "", number)
    assert digits not in re.sub(r"\D", "", masked)
    assert mask_contacts(masked) == masked  # masking twice changes nothing


def _plant_names(data, mark: str) -> dict[str, list[str]]:
    """Distinctive people in every place a name lives, the export's own
    headers mapped to the contract's, an unknown column holding names, and
    rows that are quarantined."""
    accounts = pd.read_csv(data / "accounts.csv", dtype=str, keep_default_na=False)
    accounts["sales_rep"] = [f"Rep{mark}{i % 5}" for i in range(len(accounts))]
    accounts["channel_partner"] = [f"Partner{mark}{i % 3}" if i % 2 else "" for i in range(len(accounts))]
    accounts["Owner Notes"] = [f"ask {csm}" for csm in accounts["csm"]]
    bad = accounts.iloc[:2].copy()
    bad["account_id"] = ["", "Q2"]
    bad["arr"] = ["", "not a number"]
    bad["account_name"] = [f"Quarantined{mark}A", f"Quarantined{mark}B"]
    bad["csm"] = [f"Csm{mark}Gone", f"Csm{mark}Gone"]
    accounts = pd.concat([accounts, bad], ignore_index=True)
    names = {"account": list(accounts["account_name"]), "csm": list(accounts["csm"]),
             "sales_rep": list(accounts["sales_rep"]), "partner": list(accounts["channel_partner"]),
             "domain": list(accounts["domain"])}
    accounts = accounts.rename(columns={"account_name": "Customer Name", "channel_partner": "Reseller"})
    accounts.to_csv(data / "accounts.csv", index=False)
    interventions = pd.read_csv(data / "interventions.csv", dtype=str, keep_default_na=False)
    interventions["owner"] = [f"Owner{mark}{i % 4}" for i in range(len(interventions))]
    interventions.to_csv(data / "interventions.csv", index=False)
    names["owner"] = list(interventions["owner"])
    toml = (data / "vga.toml").read_text()
    toml = toml.replace('sponsor = "Chief Customer Officer"', f'sponsor = "Sponsor{mark}"')
    toml = re.sub(r"task_force = \[.*\]", f'task_force = ["Task{mark}One", "Task{mark}Two"]', toml)
    toml = re.sub(r'owner = "[^"]*"', f'owner = "Stream{mark}"', toml)
    toml += '\n[sources.accounts.columns]\naccount_name = "Customer Name"\nchannel_partner = "Reseller"\n'
    (data / "vga.toml").write_text(toml)
    names["programme"] = [f"Sponsor{mark}", f"Task{mark}One", f"Task{mark}Two", f"Stream{mark}"]
    return names


@pytest.mark.slow
def test_an_outsider_with_the_redacted_reports_folder_finds_no_name(tmp_path):
    """The attack: the key lay in <reports>/.vga-redact-key, beside the
    folders a user hands on (with a list of names, all 77 pseudonyms were
    reversed); partners and the quarantine's mapped columns stayed in clear."""
    data = tmp_path / "data"
    write_sample(data, accounts=80, seed=5)
    names = _plant_names(data, "Zq")
    home = tmp_path / "home-config"
    done = vga("run", "--data", data, "--period", "2026Q3", "--out", tmp_path / "reports", "--redact",
               env={"XDG_CONFIG_HOME": str(home)})
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("--redact: a new key made in") == 1 and str(home) in done.stdout
    handed_on = every_text(tmp_path / "reports")  # everything an outsider receives
    everyone = {n for values in names.values() for n in values if n}
    leaked = sorted(n for n in everyone if n in handed_on)
    assert not leaked, leaked[:5]
    assert "Zq" not in re.sub(r"[A-Za-z0-9+/=]{100,}", "", handed_on)  # no part of a planted name (images aside)
    assert not [p for p in (tmp_path / "reports").rglob("*") if "key" in p.name.lower()]
    key = (home / "vga" / "redact-key").read_text().strip()
    assert key not in handed_on and (home / "vga" / "redact-key").stat().st_mode & 0o077 == 0
    quarantine = pd.read_csv(tmp_path / "reports" / "2026Q3" / "quarantine" / "accounts.csv", dtype=str)
    assert {"account_name", "channel_partner", "csm"} <= set(quarantine.columns)  # named as the contract names them
    assert quarantine["account_name"].str.startswith("Account ").all()
    assert not [c for c in quarantine.columns if "Owner" in c or "Customer" in c or "Reseller" in c]


#: Names as arbitrary as Unicode allows, less what no CSV or text file can hold.
NAMES = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\r\n"),
                min_size=1, max_size=24).filter(lambda s: s.strip() != "")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(NAMES, min_size=1, max_size=6))
@example(["Mid$\\fakecmd$Market", "$x^{2", "a_b$c", "100$ and 200$"])
def test_any_name_is_drawn_as_text(names):
    """Every chart draws names as text: with mathtext, a segment such as
    Mid$\\fakecmd$Market stopped notebook 03 with a parse error."""
    from vga.present import plots

    fig, ax = plots.new_figure()
    ax.barh(range(len(names)), range(1, len(names) + 1))
    ax.set_yticks(range(len(names)), names)
    ax.set_title(" / ".join(names))
    ax.legend([ax.patches[0]], [names[0]])
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    assert buffer.getvalue().startswith(b"\x89PNG")


@pytest.mark.slow
@settings(max_examples=1, deadline=None, phases=[Phase.generate],  # a whole run: no shrinking by re-running it
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.lists(NAMES, min_size=16, max_size=16, unique=True))
def test_arbitrary_names_go_through_the_whole_run(tmp_path_factory, names):
    """Arbitrary Unicode for every segment, region, vertical and CSM of a
    company (each value renamed whole, so the groups and the charts that
    show them stay), through loading, every step, every notebook and the
    report. The segment Mid-Market is Mid$\\fakecmd$Market, which stopped
    notebook 03 with a mathtext parse error."""
    from vga.run.report import network_references

    root = tmp_path_factory.mktemp("names")
    data = root / "data"
    write_sample(data, accounts=150, seed=13)
    accounts = pd.read_csv(data / "accounts.csv", dtype=str, keep_default_na=False)
    pool = iter(names)
    renamed = {"Mid-Market": "Mid$\\fakecmd$Market"}
    for column in ("segment", "region", "vertical", "csm"):
        for value in sorted(set(accounts[column]) - {""}):
            renamed.setdefault(value, next(pool, f"{value} <b>bold</b> \u202eevil"))
        accounts[column] = accounts[column].map(lambda v: renamed.get(v, v))
    out = io.StringIO(newline="")
    accounts.to_csv(out, index=False, quoting=csv.QUOTE_ALL)
    (data / "accounts.csv").write_text(out.getvalue(), encoding="utf-8")
    done = vga("run", "--data", data, "--period", "2026Q3", "--out", root / "reports")
    assert done.returncode == 0, done.stderr
    page = (root / "reports" / "2026Q3" / "report.html").read_text()
    assert network_references(page) == [] and "<b>bold</b>" not in page and "\u202e" not in page
    assert "Mid$\\fakecmd$Market" in page
