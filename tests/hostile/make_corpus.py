"""Write the hostile-input corpus (see README.md in this folder).

    python tests/hostile/make_corpus.py            # rewrites rules/ and files/ here
    python tests/hostile/make_corpus.py --out DIR  # somewhere else

Every file of the corpus comes from this script, deterministically: text
files byte for byte, .xlsx and .parquet cell for cell (their bytes also
carry library versions). ``tests/test_hostile.py`` checks that the
committed files are what this script writes, then loads each one.

``rules/`` is a data folder breaking every value, row and reference rule of
the data contract; each row says in its ``expect`` column (an unknown extra
column, kept and ignored by the loader) what must happen to it:

    accept[; column=value ...]             kept, no cell blanked (values checked)
    quarantine: <words of the reason>      quarantined with that reason
    blank <column>[,<column>]: <words>     kept, those cells blanked with that reason

``files/`` holds one hostile file per case, named ``<case>.<table>.<ext>``;
the test copies it into a data folder as ``<table>.<ext>``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import re
import zipfile
from decimal import Decimal
from pathlib import Path

HERE = Path(__file__).resolve().parent

# --------------------------------------------------------------------------
# rules/: every rule of the contract, one row per rule broken.

RULES = {
    "accounts": """\
account_id,arr,account_name,region,segment,contract_start,renewal_date,health_score,usage_score,domain
A1,1000,Acme,NA,SMB,2020-01-01,2026-12-31,80,50,acme.example  # accept; region=NA; segment=SMB
00123,0,Zero ARR,N/A,-,2020-01-01T23:30:00-02:00,,,,  # accept; account_id=00123; segment=-; contract_start=2020-01-02
123.0,7.0,,None,null,,,,,  # accept; account_id=123.0; arr=7; region=None; segment=null
  A4  ,1e3,Padded id,,,,,,,  # accept; account_id=A4; arr=1000
,100,No id,,,,,,,  # quarantine: account_id: required value is empty
   ,100,Spaces-only id,,,,,,,  # quarantine: account_id: required value is empty
A7,,No ARR,,,,,,,  # quarantine: arr: required value is empty
A8,abc,Text ARR,,,,,,,  # quarantine: arr: expected a number >= 0, found 'abc'
A9,-1,Negative ARR,,,,,,,  # quarantine: arr: expected a number >= 0, found '-1'
A10,inf,Infinite ARR,,,,,,,  # quarantine: arr: expected a number >= 0, found 'inf'
A11,nan,NaN ARR,,,,,,,  # quarantine: arr: expected a number >= 0, found 'nan'
A12,"1,000",Thousands separator,,,,,,,  # quarantine: found '1,000' (if the file writes numbers as 1.234,5 or 1,234.5
A13,$100,Currency symbol,,,,,,,  # quarantine: found '$100' (numbers are plain, without a currency symbol)
A14,100,Other date format,,,31/12/2020,,,,  # blank contract_start: found '31/12/2020' (other formats need [sources.accounts.date_formats]
A15,100,Health above 100,,,,,101,,  # blank health_score: expected a number from 0 to 100, found '101'
A16,100,Usage below 0,,,,,,-0.5,  # blank usage_score: found '-0.5'
A17,100,Far renewal,,,,9999-12-31,,,  # blank renewal_date: found '9999-12-31' (outside 1678-2261
A1,5,Second A1,,,,,,,  # quarantine: duplicate account_id 'A1': the first valid row (1) is kept
DUP,x,Invalid first,,,,,,,  # quarantine: arr: expected a number >= 0, found 'x'
DUP,5,First valid,,,,,,,  # accept; arr=5
DUP,6,Later duplicate,,,,,,,  # quarantine: duplicate account_id 'DUP': the first valid row (20) is kept
ORPHAN,-5,Its only row is quarantined,,,,,,,  # quarantine: arr: expected a number >= 0, found '-5'
A22,12.5,Unicode ☃ naïve — fine,Zürich,,,,,,  # accept; account_name=Unicode ☃ naïve — fine; region=Zürich
A23,١٢٣,Arabic-Indic digits,,,,,,,  # quarantine: arr: expected a number >= 0, found '١٢٣'
A24,1.5e2,Impossible date,,,2020-02-30,,,,  # blank contract_start: found '2020-02-30'; arr=150
""",
    "support_tickets": """\
ticket_id,account_id,opened_at,closed_at,priority,category,escalated,csat
T1,A1,2026-01-01T10:00:00Z,2026-01-02,URGENT,billing,Yes,5  # accept; priority=urgent; escalated=true; opened_at=2026-01-01 10:00:00
T2,A1,2026-01-01,,Normal,,f,1.0  # accept; priority=normal; escalated=false; csat=1
T3,A1,2026-01-01,,p1,,maybe,0  # blank priority,escalated,csat: blanked
T4,A1,yesterday,,,,,  # quarantine: opened_at: expected an ISO 8601 timestamp (YYYY-MM-DDTHH:MM:SS, optional offset), found 'yesterday'
T5,A1,,,,,,  # quarantine: opened_at: required value is empty
T6,A1,2026-01-02T10:00:00Z,2026-01-02T09:59:59Z,,,,  # quarantine: closed_at '2026-01-02T09:59:59Z' is before opened_at '2026-01-02T10:00:00Z'
T7,A1,2026-01-02T10:00:00+02:00,2026-01-02T09:00:00Z,,,,  # accept; opened_at=2026-01-02 08:00:00; closed_at=2026-01-02 09:00:00
T1,A1,2026-01-03,,,,,  # quarantine: duplicate ticket_id 'T1': the first valid row (1) is kept
T9,ZZ,2026-01-01,,,,,  # quarantine: account_id 'ZZ' is not among the accepted accounts
T10,ORPHAN,2026-01-01,,,,,  # quarantine: account_id 'ORPHAN' is not among the accepted accounts
T11,,2026-01-01,,,,,  # quarantine: account_id: required value is empty
T12,A1,2026-01-01,not a date,,,,  # blank closed_at: found 'not a date'
T13,A1,2026-01-01 10:00 CET,,,,,  # quarantine: opened_at: expected an ISO 8601 timestamp
T14,A1,2026-01-01T23:30:00-05:30,,,,TRUE,  # accept; opened_at=2026-01-02 05:00:00; escalated=true
T15,A1,2026-01-01t10:00:00z,,,,,  # quarantine: found '2026-01-01t10:00:00z'
T16,A1,2026-01-01T10:00:00z,,,,,  # accept; opened_at=2026-01-01 10:00:00
""",
    "renewals": """\
account_id,renewal_date,arr_before,arr_after,outcome,churn_reason
A1,2026-01-01,100,80,expanded,  # blank outcome: outcome 'expanded' but arr_after '80' < arr_before '100', so it is 'downgraded'
A1,2026-02-01,80,0,Churned,price  # accept; outcome=churned
A1,2026-03-01,80,80,downgraded,  # blank outcome: so it is 'renewed'
A1,2026-03-01,-1,5,,  # quarantine: arr_before: expected a number >= 0, found '-1'
A1,2026-13-01,1,1,,  # quarantine: renewal_date: expected an ISO 8601 date (YYYY-MM-DD), found '2026-13-01'
A1,2026-04-01,1,1,maybe,  # blank outcome: expected one of renewed|expanded|downgraded|churned, found 'maybe'
ZZ,2026-04-01,1,1,,  # quarantine: account_id 'ZZ' is not among the accepted accounts
ORPHAN,2026-04-01,1,1,,  # quarantine: account_id 'ORPHAN' is not among the accepted accounts
A1,9999-12-31,1,1,,  # quarantine: renewal_date: expected an ISO 8601 date (YYYY-MM-DD), found '9999-12-31' (outside 1678-2261
A1,2026-05-01,1 000,1,,  # quarantine: arr_before: expected a number >= 0, found '1 000'
A1,2026-05-01,1e309,1,,  # quarantine: arr_before: expected a number >= 0, found '1e309'
A1,2026-05-01T23:00:00-03:00,5,6,EXPANDED,  # accept; renewal_date=2026-05-02; outcome=expanded
""",
    "surveys": """\
account_id,responded_at,kind,score,comment,respondent_id
A1,2026-01-01,NPS,7.0,fine,r-1  # accept; kind=nps; score=7
A1,2026-01-01,nps,7.5,,r-2  # quarantine: score: expected a whole number 0..10 for nps, found '7.5'
A1,2026-01-01,csat,6,,  # quarantine: score: expected 1..5 for csat, found '6'
A1,2026-01-01,nps,11,,  # quarantine: score: expected a whole number 0..10 for nps, found '11'
A1,2026-01-01,poll,3,,  # quarantine: kind: expected one of nps|csat|onboarding|offboarding, found 'poll'
A1,2026-01-01,csat,,,  # quarantine: score: required value is empty
A1,2026-01-01,onboarding,0,,  # quarantine: score: expected 1..5 for onboarding, found '0'
A1,2026-01-01,Offboarding,5,"=HYPERLINK(""http://x.example"",""click"")",  # accept; kind=offboarding; comment==HYPERLINK("http://x.example","click")
""",
    "users": """\
user_id,account_id,email,role
u1,A1,u1@acme.example,admin  # accept
u1,A1,again@acme.example,viewer  # quarantine: duplicate user_id '[redacted]': the first valid row (1) is kept
u3,,u3@acme.example,  # quarantine: account_id: required value is empty
u4,ZZ,,  # quarantine: account_id 'ZZ' is not among the accepted accounts
""",
    "workflow_runs": """\
account_id,workflow,started_at,completed_at,last_step,user_id
A1,import,2026-01-01,2026-01-01T01:00:00Z,done,u1  # accept
A1,import,2026-01-02,2026-01-01,,u1  # quarantine: completed_at '2026-01-01' is before started_at '2026-01-02'
A1,,2026-01-01,,,  # quarantine: workflow: required value is empty
A1,import,2026-01-01,later,map_fields,  # blank completed_at: found 'later'
""",
    "health_scores": """\
account_id,as_of,score,component_adoption,component_support
A1,2026-01-01,55,40,70  # accept; component_adoption=40
A1,2026-01-01,101,40,70  # quarantine: score: expected a number from 0 to 100, found '101'
A1,2026-01-02,50,150,  # blank component_adoption: expected a number from 0 to 100, found '150'
A1,,50,,  # quarantine: as_of: required value is empty
""",
    "touchpoints": """\
account_id,occurred_at,kind,sentiment,csm
A1,2026-01-01,QBR,Positive,Ann  # accept; kind=qbr; sentiment=positive
A1,2026-01-01,lunch,meh,  # blank kind,sentiment: blanked
A1,01/02/2026,call,,  # quarantine: found '01/02/2026' (other formats need [sources.touchpoints.date_formats]
""",
    "onboarding": """\
account_id,milestone,completed_at,due_at
A1,kickoff,2026-01-01,2026-01-15  # accept
A1,,2026-01-01,  # quarantine: milestone: required value is empty
A1,kickoff,soon,  # blank completed_at: found 'soon'
""",
    "training": """\
account_id,course,completed_at,user_id
A1,basics,2026-01-01,u1  # accept
A1,basics,,u1  # quarantine: completed_at: required value is empty
""",
    "interviews": """\
account_id,held_at,source,themes,notes
A1,2026-01-01,Churn_Interview,pricing;support,"a quoted note
over two lines"  # accept; source=churn_interview; themes=pricing;support
A1,2026-01-01,podcast,,  # quarantine: source: expected one of churn_interview|win_loss|advisory_board|call_recording|observation|other, found 'podcast'
A1,2026-01-02,other,,  # accept
""",
    "interventions": """\
account_id,started_at,playbook,owner,objective,target_date,status
A1,2026-01-01,rescue,Ann,save,2026-03-01,OPEN  # accept; status=open
A1,2026-01-01,rescue,,,,done  # blank status: found 'done'
A1,2026-01-01,,,,,  # quarantine: playbook: required value is empty
""",
    "product_fixes": """\
fix_id,account_id,raised_at,shipped_at,confirmed_at
F1,A1,2026-01-01,2026-02-01,  # accept
F1,A1,2026-01-05,,  # quarantine: duplicate fix_id 'F1': the first valid row (1) is kept
F3,A1,2026-01-01,someday,  # blank shipped_at: found 'someday'
""",
    "usage_events": """\
timestamp,feature,user_id,account_id,user_email,session_id
2026-01-01T10:00:00Z,dashboards,u1,A1,,s1  # accept; account_id=A1
2026-01-01T10:00:00Z,dashboards,u1,,,s1  # accept; account_id=A1
2026-01-01T10:00:00Z,reports,u9,,x@ACME.example,  # accept; account_id=A1
2026-01-01T10:00:00Z,reports,u8,,y@nowhere.example,  # quarantine: account could not be resolved
2026-01-01T10:00:00Z,reports,u7,ZZ,,  # quarantine: account_id 'ZZ' is not among the accepted accounts
31/03/2026,reports,u1,A1,,  # quarantine: timestamp: expected an ISO 8601 timestamp (YYYY-MM-DDTHH:MM:SS, optional offset), found '31/03/2026'
,reports,,A1,,  # quarantine: timestamp: required value is empty; user_id: required value is empty
2026-01-01T10:00:00+05:30,alerts,u1,A1,,  # accept; timestamp=2026-01-01 04:30:00
2026-01-01T10:00:00Z,,u1,A1,,  # quarantine: feature: required value is empty
""",
}


# --------------------------------------------------------------------------
# files/: one hostile file per case (text as exact bytes).

LONG_NAME = "N" + ("a very long account name " * 4000)[:99_998] + "N"  # 100,000 characters
LONG_NUMBER = "9" * 1_000


def text_files() -> dict[str, bytes]:
    crlf = "\r\n"
    return {
        "utf8_bom.accounts.csv": ("\ufeffaccount_id,arr,account_name\r\nA1,100,Café\r\nA2,200,Ünïcödé\r\n").encode("utf-8"),
        "cp1252.accounts.csv": crlf.join([
            "account_id,arr,account_name", "A1,100,Café Müller", "A2,200,€uro “quotes” – dash", ""]).encode("cp1252"),
        "utf16_tabs.accounts.csv": "account_id\tarr\taccount_name\r\nA1\t100\tŁódź\r\nA2\t200\t東京\r\n".encode("utf-16"),
        "crlf.accounts.csv": crlf.join([
            "account_id,arr,account_name", 'A1,100,"two', 'lines"', "", "A2,200,after a blank line",
            "A3,300,no newline at the end"]).encode(),
        "semicolon.accounts.csv": (
            "account_id;arr;account_name;contract_start\n"
            "A1;1.234,50;Müller GmbH;31.12.2020\nA2;99,9;Dupont;01.02.2021\n").encode(),
        "thousands.accounts.csv": 'account_id,arr\nA1,"1,234,567.50"\nA2,"12,34"\nA3,"1,00,000"\nA4,999\n'.encode(),
        "spaces_as_thousands.accounts.csv": "account_id,arr\nA1,1\u00a0234\nA2,1\u202f234\nA3,1 234\n".encode(),
        "mixed_time_zones.support_tickets.csv": "\n".join([
            "ticket_id,account_id,opened_at,closed_at",
            "T1,A1,2026-03-31T23:30:00-02:00,",
            "T2,A1,2026-04-01T01:30:00Z,",
            "T3,A1,2026-04-01 01:30:00,",
            "T4,A1,2026-04-01T07:00:00+05:30,",
            "T5,A1,2026-04-01T01:30:00.000+0000,",
            "T6,A1,2026-04-01T03:30+02,",
            "T7,A1,2026-04-01,",
            "T8,A1,2026-04-01T01:30:00 CEST,",
            "T9,A1,2026-04-01T10:00:00+09:00,2026-04-01T02:00:00+01:00",
            "T10,A1,2026-04-01T10:00:00+09:00,2026-04-01T00:30:00Z", ""]).encode(),
        "duplicate_header.accounts.csv": b"account_id,arr,region,arr\nA1,1,EU,2\n",
        "case_mismatch.accounts.csv": b"Account_ID,ARR\nA1,1\n",
        "empty.accounts.csv": b"",
        "empty.renewals.csv": b"",
        "blank_lines_only.accounts.csv": b"\n\r\n\n",
        "header_only.accounts.csv": b"account_id,arr,region\n",
        "header_only.renewals.csv": b"account_id,renewal_date,arr_before,arr_after\r\n",
        "empty.renewals.parquet": b"",
        "long_strings.accounts.csv": (
            f"account_id,arr,account_name\nA1,100,{LONG_NAME}\nA2,{LONG_NUMBER},long number\n"
            f"{'Z' * 100_000},5,long id\n").encode(),
        "hostile_names.accounts.csv": "\n".join([
            "account_id,arr,account_name",
            "H1,1,<script>alert('x')</script>",
            'H2,1,"=HYPERLINK(""http://evil.example"",""click"")"',
            "H3,1,+cmd|' /C calc'!A0",
            "H4,1,@SUM(1+1)",
            "H5,1,-2+3",
            "H6,1,Bell\x07 Esc\x1b[31m red",
            'H7,1,"line\nbreak"',
            "H8,1,tab\tinside",
            "H9,1,NUL\x00byte",
            "H10,1,RTL \u202egnp.exe",
            "H11,1,zero\u200bwidth",
            "=1+1,1,a formula as the id",
            '<b>H13</b>,"oops\x07\nmore","=HYPERLINK(""http://evil.example"")"', ""]).encode(),
        "ragged.accounts.csv": "\n".join([
            "account_id,arr,region",
            "A1,100,EU",
            "A2,200",
            "A3,300,EU,extra",
            "A4,400,EU,,",
            'A5,500,"EU, West"',
            "A6,600,EU, West", ""]).encode(),
        "trailing_delimiters.accounts.csv": b"account_id,arr,,\nA1,1,,\nA2,2\nA3,3,,x\n",
        "unclosed_quote.accounts.csv": b'account_id,arr,account_name\nA1,100,"Acme\nA2,200,Beta\nA3,300,Gamma\n',
        "not_a_workbook.accounts.xlsx": b"account_id,arr\nA1,1\n",
        "two_arr_columns.accounts.csv": b"account_id,arr,ARR (EUR)\nA1,1,2\n",
        "latin1.usage_events.csv": (
            "timestamp,feature,user_id,account_id\r\n2026-01-01T10:00:00Z,café,u1,A1\r\n"
            "2026-01-02T10:00:00Z,naïve,u1,A1\r\n").encode("latin-1"),
        "semicolon.usage_events.csv": b"timestamp;feature;user_id;account_id\n2026-01-01T10:00:00Z;reports;u1;A1\n",
        "bom_crlf.usage_events.csv": "\ufefftimestamp,feature,user_id,account_id\r\n2026-01-01T10:00:00Z,reports,u1,A1\r\n\r\n2026-01-02,alerts,u1,A2\r\n".encode(),
        "ragged.usage_events.csv": b"timestamp,feature,user_id,account_id\n2026-01-01,x,u1,A1\n2026-01-01,x,u1,A1,extra\n",
        "duplicate_header.usage_events.csv": b"timestamp,feature,feature,user_id\n2026-01-01,x,y,u1\n",
        "unclosed_quote.usage_events.csv": b'timestamp,feature,user_id,account_id\n2026-01-01,"x,u1,A1\n2026-01-02,y,u1,A1\n',
    }


# .xlsx and .parquet

def _excel(rows: list[list], formats: dict | None = None, cached: dict | None = None) -> bytes:
    """A one-sheet workbook; ``cached`` gives formula cells (by reference) a
    saved result, as Excel would; other formulas have none (as a script
    writing the file leaves them). Dates and the zip entries are fixed."""
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    for ref, number_format in (formats or {}).items():
        sheet[ref].number_format = number_format
    fixed = dt.datetime(2026, 1, 1)
    book.properties.created = book.properties.modified = fixed
    raw = io.BytesIO()
    book.save(raw)
    out = io.BytesIO()
    with zipfile.ZipFile(raw) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                text = data.decode()
                for ref, value in (cached or {}).items():
                    text = re.sub(rf'(<c r="{ref}"[^>]*><f>[^<]*</f>)<v\s*/>', rf"\g<1><v>{value}</v>", text)
                data = text.encode()
            if info.filename == "docProps/core.xml":
                data = re.sub(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", b"2026-01-01T00:00:00Z", data)
            entry = zipfile.ZipInfo(info.filename, date_time=(2026, 1, 1, 0, 0, 0))
            entry.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(entry, data)
    return out.getvalue()


def excel_files() -> dict[str, bytes]:
    header = ["account_id", "arr", "account_name", "contract_start", "region"]
    rows = [
        header,
        ["A1", 1200, "Acme", dt.datetime(2020, 1, 31), "EU"],            # typed number, a date cell
        [1002, 2400.0, "Numeric id", 43831, "EU"],                       # id and ARR as numbers; a date serial
        ["A3", "=12*100", "Formula with a saved result", None, None],   # cached 1200 below
        ["A4", "=B2*2", "Formula without a saved result", None, None],
        ["A5", "#DIV/0!", "Error value", None, None],
        ["A6", "1.234,5", "Text number, no setting", None, None],
        ["A7", 100, '=CONCAT("a","b")', None, None],                     # formula text in a text column
        ["A8", True, "Boolean ARR", None, None],
        ["A9", 100, "A time, not a date", dt.time(12, 30), None],
        [None, None, None, None, None],                                  # an empty row is not a record
        ["A11", 1, "Padded region", None, "  EMEA  "],
    ]
    comma_rows = [
        ["account_id", "arr", "contract_start"],
        ["A1", 1234.5, dt.datetime(2020, 12, 31)],                       # typed: no convention applies
        ["A2", "1.234,5", "31.12.2020"],                                 # text: the declared convention
        ["A3", "99,9", "01.02.2021"],
    ]
    return {
        "excel.accounts.xlsx": _excel(rows, {"D2": "yyyy-mm-dd", "D3": "General"}, {"B4": 1200}),
        "excel_decimal_comma.accounts.xlsx": _excel(comma_rows, {"C2": "dd.mm.yyyy"}),
    }


def _micros(utc: dt.datetime) -> int:
    return int(utc.replace(tzinfo=dt.timezone.utc).timestamp()) * 1_000_000


def parquet_files() -> dict[str, bytes]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    def write(table) -> bytes:
        sink = io.BytesIO()
        pq.write_table(table, sink)
        return sink.getvalue()

    typed = pa.table({
        "account_id": pa.array([1001, 1002, 1003], pa.int64()),
        "arr": pa.array([1234.5, 7.0, None], pa.float64()),
        # 2020-01-01 01:00 at +02:00 (2019-12-31 in UTC), none, 2021-06-30 23:00 UTC; given as microseconds
        # since 1970 UTC (pyarrow's reading of aware datetime objects varies with what else is imported)
        "contract_start": pa.array([_micros(dt.datetime(2019, 12, 31, 23, 0)), None, _micros(dt.datetime(2021, 6, 30, 23, 0))],
                                   pa.int64()).cast(pa.timestamp("us", tz="+02:00")),
        "renewal_date": pa.array([dt.date(2027, 1, 1), dt.date(9999, 12, 31), None], pa.date32()),
        "health_score": pa.array([Decimal("55.50"), Decimal("101.00"), None], pa.decimal128(5, 2)),
        "segment": pa.array(["SMB", "SMB", None]).dictionary_encode(),
    })
    all_null = pa.table({
        "account_id": pa.array(["A1", "A2"]),
        "arr": pa.array([1.0, 2.0]),
        "region": pa.array([None, None], pa.null()),
        "health_score": pa.array([None, None], pa.float64()),
        "contract_start": pa.array([None, None], pa.timestamp("us")),
    })
    duplicated = pa.Table.from_arrays([pa.array(["A1"]), pa.array([1.0]), pa.array([2.0])],
                                      names=["account_id", "arr", "arr"])
    events = pa.table({"timestamp": ["2026-01-01T10:00:00Z"], "feature": ["reports"], "user_id": ["u1"],
                       "account_id": ["A1"]})
    return {
        "typed.accounts.parquet": write(typed),
        "all_null.accounts.parquet": write(all_null),
        "duplicate_header.accounts.parquet": write(duplicated),
        "empty_part.usage_events/part-0.parquet": write(events),
        "empty_part.usage_events/part-1.parquet": b"",
    }


def rules_csv(text: str) -> bytes:
    """A RULES block as CSV: each record's expectation (after ``  # ``)
    becomes its last field, ``expect``; the header gains that column."""
    lines = text.splitlines()
    out = [lines[0] + ",expect"]
    for line in lines[1:]:
        data, marker, expect = line.partition("  # ")
        out.append(data + ("," + _quoted(expect) if marker else ""))
    return ("\n".join(out) + "\n").encode("utf-8")


def _quoted(value: str) -> str:
    return '"' + value.replace('"', '""') + '"' if any(c in value for c in ',"\n') else value


def corpus() -> dict[str, bytes]:
    """Every file of the corpus: relative path -> bytes."""
    files = {f"rules/{table}.csv": rules_csv(text) for table, text in RULES.items()}
    for name, data in {**text_files(), **excel_files(), **parquet_files()}.items():
        files[f"files/{name}"] = data
    return files


def write(out: Path) -> list[Path]:
    written = []
    for rel, data in corpus().items():
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        written.append(path)
    return written


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE)
    args = parser.parse_args()
    print(f"wrote {len(write(args.out))} files under {args.out}")
