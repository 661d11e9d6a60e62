"""Step 6, voice of the customer: figures checked against plain re-computations
of the accepted tables, point-in-time, missing tables, ARR-weighted themes,
and the sample's planted link between health and NPS."""

from __future__ import annotations

import calendar
import json
from datetime import date, datetime
from statistics import median

import pandas as pd
import pytest

from vga.run import pipeline
from vga.config import load_config
from vga.inputs import Inputs
from vga.notebook import View
from vga.periods import parse_period
from vga.present import voice_of_customer as show
from vga.nodes import NODES
from vga.present import chapters
from vga.nodes.voice_of_customer import compute

PERIOD = parse_period("2026Q3")
AS_OF, START = date(2026, 9, 30), date(2025, 9, 30)
SETTINGS = {"analysis": load_config(None, None)["analysis"]}


@pytest.fixture(scope="module")
def sample_voice(sample_inputs, sample_dir):
    """The step on the sample, with the quadrants step 7 computes."""
    outputs, _ = pipeline.compute(sample_inputs, PERIOD, load_config(None, sample_dir), ["voice_of_customer"])
    return outputs


def _rows(frame: pd.DataFrame) -> list[dict]:
    return frame.to_dict("records")


def _day(value) -> date:
    return pd.Timestamp(value).date()


def _in_window(value, start=START, end=AS_OF) -> bool:
    return start < _day(value) <= end


def _view(outputs: dict) -> View:
    step = NODES["voice_of_customer"]
    return View(chapters()["voice_of_customer"], PERIOD, SETTINGS, {o.name: outputs.get(o.name) for o in step.outputs}, "computed")


# --------------------------------------------------------------------------
# Plain re-computations (loops over rows; no vga code)


def ref_nps(scores: list[float]) -> float:
    promoters = sum(1 for s in scores if s >= 9)
    detractors = sum(1 for s in scores if s <= 6)
    return 100.0 * (promoters - detractors) / len(scores)


def ref_arr(accounts: pd.DataFrame, renewals: pd.DataFrame, day: date, lost: bool = False) -> dict[str, float]:
    """ARR at ``day`` by the metric definition; ``lost``: an account at 0 that
    churned on or before ``day`` weighs the arr_before of its last churn row."""
    by_account: dict[str, list] = {}
    for r in _rows(renewals):
        by_account.setdefault(r["account_id"], []).append(r)
    out = {}
    for a in _rows(accounts):
        start = a["contract_start"]
        if pd.notna(start) and _day(start) > day:
            out[a["account_id"]] = 0.0
            continue
        rows = sorted(by_account.get(a["account_id"], []), key=lambda r: (_day(r["renewal_date"]), r["source_row"]))
        before = [r for r in rows if _day(r["renewal_date"]) <= day]
        after = [r for r in rows if _day(r["renewal_date"]) > day]
        value = before[-1]["arr_after"] if before else after[0]["arr_before"] if after else a["arr"]
        if lost and value == 0:
            churns = [r for r in before if r["arr_after"] == 0 and r["arr_before"] > 0]
            value = churns[-1]["arr_before"] if churns else 0.0
        out[a["account_id"]] = float(value)
    return out


# --------------------------------------------------------------------------
# Figures against the re-computation


def test_nps_and_csat_levels_match_a_plain_recomputation(sample_voice, sample_inputs):
    facts = sample_voice["voice_of_customer.json"]
    surveys = _rows(sample_inputs.table("surveys"))
    nps = [r["score"] for r in surveys if r["kind"] == "nps" and _in_window(r["responded_at"])]
    assert facts["nps"]["responses"] == len(nps) > 300
    assert facts["nps"]["nps"] == pytest.approx(ref_nps(nps))
    assert facts["nps"]["detractors"] == sum(1 for s in nps if s <= 6)
    previous = [r["score"] for r in surveys if r["kind"] == "nps"
                and _in_window(r["responded_at"], date(2025, 6, 30), date(2026, 6, 30))]
    assert facts["nps"]["previous"]["nps"] == pytest.approx(ref_nps(previous))
    assert facts["nps"]["change"] == pytest.approx(ref_nps(nps) - ref_nps(previous))

    # The sample's surveys are all NPS: CSAT is the tickets' ratings, dated when closed.
    ratings = [r["csat"] for r in _rows(sample_inputs.table("support_tickets")) if pd.notna(r["csat"])
               and _in_window(r["closed_at"] if pd.notna(r["closed_at"]) else r["opened_at"])]
    assert facts["csat"]["responses"] == facts["csat"]["ticket_responses"] == len(ratings) > 300
    assert facts["csat"]["survey_responses"] == 0 and facts["csat"]["sources"] == ["support ticket ratings"]
    assert facts["csat"]["mean"] == pytest.approx(sum(ratings) / len(ratings))
    assert facts["csat"]["satisfied_share"] == pytest.approx(sum(1 for s in ratings if s >= 4) / len(ratings))


def test_quarterly_trend_matches_a_plain_recomputation(sample_voice, sample_inputs):
    trend = sample_voice["voice_trend.csv"]
    nps_rows = trend[trend["measure"] == "nps"].set_index("quarter")
    by_quarter: dict[str, list] = {}
    for r in _rows(sample_inputs.table("surveys")):
        d = _day(r["responded_at"])
        if r["kind"] == "nps" and d <= AS_OF:
            by_quarter.setdefault(f"{d.year}Q{(d.month - 1) // 3 + 1}", []).append(r["score"])
    assert list(nps_rows.index) == sorted(by_quarter)  # only quarters with responses, none after as-of
    for quarter, scores in by_quarter.items():
        assert nps_rows.loc[quarter, "responses"] == len(scores)
        assert nps_rows.loc[quarter, "value"] == pytest.approx(ref_nps(scores))
    assert trend["quarter_end"].max() == pd.Timestamp(AS_OF)


def test_backlog_support_load_and_escalations_match(sample_voice, sample_inputs):
    facts = sample_voice["voice_of_customer.json"]
    tickets = _rows(sample_inputs.table("support_tickets"))
    end = datetime(2026, 10, 1)
    still_open = [t for t in tickets if t["opened_at"] < end and (pd.isna(t["closed_at"]) or t["closed_at"] >= end)]
    ages = [(AS_OF - _day(t["opened_at"])).days for t in still_open]
    backlog = facts["backlog"]
    assert backlog["open_tickets"] == len(still_open) > 0
    assert backlog["median_age_days"] == median(ages)
    assert backlog["share_older_than_30_days"] == pytest.approx(sum(a > 30 for a in ages) / len(ages))
    # A ticket closed after the as-of date was still open on it.
    assert any(pd.notna(t["closed_at"]) for t in still_open)

    opened = [t for t in tickets if _in_window(t["opened_at"])]
    accounts, renewals = sample_inputs.table("accounts"), sample_inputs.table("renewals")
    months = 0
    for k in range(12):  # as_of, as_of - 1 month, ... clipped to the month's last day
        year, month = divmod(AS_OF.year * 12 + AS_OF.month - 1 - k, 12)
        day = date(year, month + 1, min(AS_OF.day, calendar.monthrange(year, month + 1)[1]))
        months += sum(v > 0 for v in ref_arr(accounts, renewals, day).values())
    support = facts["support"]
    assert support["tickets"] == len(opened)
    assert support["account_months"] == months
    assert support["tickets_per_account_month"] == pytest.approx(len(opened) / months)
    load = sample_voice["support_load.csv"]
    for dimension in ("category", "priority"):
        rows = load[load["dimension"] == dimension].set_index("value")
        assert rows["tickets"].sum() == len(opened)
        for value, row in rows.iterrows():
            mine = [t for t in opened if (t[dimension] if pd.notna(t[dimension]) else "(not given)") == value]
            assert row["tickets"] == len(mine)
            assert row["escalated"] == sum(bool(t["escalated"]) for t in mine if pd.notna(t["escalated"]))

    escalated = [t for t in opened if pd.notna(t["escalated"]) and t["escalated"]]
    flagged = [t for t in opened if pd.notna(t["escalated"])]
    arr = ref_arr(accounts, renewals, AS_OF, lost=True)
    ids = {t["account_id"] for t in escalated}
    esc = facts["escalations"]
    assert esc["escalated"] == len(escalated) > 0
    assert esc["share_of_tickets"] == pytest.approx(len(escalated) / len(flagged))
    assert esc["accounts"] == len(ids)
    assert esc["arr"] == pytest.approx(sum(arr[a] for a in ids))


def test_low_health_quadrants_give_lower_nps(sample_voice):
    """Planted: high latent health answers NPS ~8.6, low health ~3.5. Usage
    was given no effect on NPS, so quadrants of equal health agree."""
    q = sample_voice["voice_by_quadrant.csv"].set_index("quadrant")
    low = q.loc[["Frustrated Power Users", "Churn Risk"]]
    high = q.loc[["Champions", "Relationship-Dependent"]]
    assert (low["responses"] >= 50).all() and (high["responses"] >= 50).all()
    assert low["detractor_share"].min() > 0.6 > 0.2 > high["detractor_share"].max()
    assert low["nps"].max() < -40 and high["nps"].min() > 20
    assert low["csat"].max() < high["csat"].min()
    # Nothing planted between usage levels: equal health, similar NPS.
    assert abs(q.loc["Champions", "nps"] - q.loc["Relationship-Dependent", "nps"]) < 20
    assert abs(q.loc["Frustrated Power Users", "nps"] - q.loc["Churn Risk", "nps"]) < 20


def test_sample_churn_themes_are_weighted_by_arr_before_leaving(sample_voice, sample_inputs):
    themes = sample_voice["themes.csv"]
    interviews = _rows(sample_inputs.table("interviews"))
    held = [r for r in interviews if _in_window(r["held_at"])]
    arr = ref_arr(sample_inputs.table("accounts"), sample_inputs.table("renewals"), AS_OF, lost=True)
    assert set(themes["source_group"]) == {"churn"}  # the sample holds churn interviews only
    for row in themes.itertuples():
        ids = {r["account_id"] for r in held if row.theme in [t.strip() for t in r["themes"].split(";")]}
        assert row.accounts == len(ids)
        assert row.arr == pytest.approx(sum(arr[a] for a in ids))
    assert themes["arr"].sum() > 0  # churned accounts weigh what they had, not 0


# --------------------------------------------------------------------------
# Small frames: point-in-time, themes, missing tables


def _accounts():
    return pd.DataFrame({"account_id": ["A", "B", "C"], "arr": [1000.0, 0.0, 100.0],
                         "contract_start": pd.to_datetime(["2020-01-01"] * 3)})


def _renewals():
    return pd.DataFrame({"account_id": ["B"], "renewal_date": pd.to_datetime(["2026-03-01"]),
                         "arr_before": [500.0], "arr_after": [0.0], "source_row": [1]})


def _surveys(extra=()):
    rows = [("A", "2026-01-10", "nps", 10.0), ("B", "2026-02-01", "nps", 3.0), ("C", "2026-08-01", "nps", 8.0),
            ("A", "2026-09-30 23:59", "nps", 9.0), ("C", "2025-09-30 12:00", "nps", 0.0),  # on window_start: out
            ("A", "2026-05-05", "csat", 5.0), ("C", "2026-05-06", "csat", 2.0), *extra]
    return pd.DataFrame({"account_id": [r[0] for r in rows],
                         "responded_at": pd.to_datetime([r[1] for r in rows], format="ISO8601"),
                         "kind": [r[2] for r in rows], "score": [r[3] for r in rows],
                         "comment": ["Call me on +44 20 7946 0000, Jane"] * len(rows)})


def _tickets(extra=()):
    rows = [("T1", "A", "2026-09-01", None, "high", "bug", True, 4.0),
            ("T2", "C", "2026-06-01", "2026-10-05", "low", "billing", False, 1.0),   # closed after as-of: open then
            ("T3", "C", "2026-07-01", "2026-07-03", "low", "billing", False, 5.0),
            ("T4", "B", "2026-01-01", "2026-01-02", "urgent", None, True, None), *extra]
    return pd.DataFrame({
        "ticket_id": [r[0] for r in rows], "account_id": [r[1] for r in rows],
        "opened_at": pd.to_datetime([r[2] for r in rows], format="ISO8601"),
        "closed_at": pd.to_datetime([r[3] for r in rows], format="ISO8601"),
        "priority": [r[4] for r in rows], "category": [r[5] for r in rows],
        "escalated": pd.array([r[6] for r in rows], dtype="boolean"), "csat": [r[7] for r in rows]})


def _interviews(extra=()):
    rows = [("A", "2026-04-01", "advisory_board", "pricing"),
            ("B", "2026-03-11", "churn_interview", "pricing; Support"),
            ("C", "2026-05-01", "churn_interview", "support"),
            ("C", "2026-05-02", "observation", ""), *extra]
    return pd.DataFrame({"account_id": [r[0] for r in rows],
                         "held_at": pd.to_datetime([r[1] for r in rows], format="ISO8601"),
                         "source": [r[2] for r in rows], "themes": [r[3] for r in rows],
                         "notes": ["Spoke with jane.doe@example.com"] * len(rows)})


def _small(**extra):
    frames = {"accounts": _accounts(), "renewals": _renewals(), "surveys": _surveys(), "support_tickets": _tickets(),
              "interviews": _interviews()} | extra
    return compute(pipeline.context(Inputs.from_frames(**frames), PERIOD, SETTINGS), {})


def test_small_frames_by_hand():
    out = _small()
    facts = out["voice_of_customer.json"]
    # NPS responses in (2025-09-30, 2026-09-30]: 10, 3, 8, 9 -> 2 promoters, 1 detractor of 4.
    assert facts["nps"]["responses"] == 4 and facts["nps"]["nps"] == pytest.approx(25.0)
    # CSAT: surveys 5, 2; tickets T1 (open: dated opened), T3 (closed 07-03); T2 closed after as-of: not yet rated.
    assert facts["csat"]["responses"] == 4 and facts["csat"]["mean"] == pytest.approx((5 + 2 + 4 + 5) / 4)
    assert facts["csat"]["survey_responses"] == 2 and facts["csat"]["satisfied_share"] == pytest.approx(0.75)
    # Open on 2026-09-30: T1 (29 days old) and T2 (121 days old, closed later).
    assert facts["backlog"]["open_tickets"] == 2 and facts["backlog"]["median_age_days"] == 75.0
    assert facts["backlog"]["share_older_than_30_days"] == 0.5
    # Escalated: T1 (A, ARR 1000) and T4 (B, churned on 2026-03-01 from 500).
    esc = facts["escalations"]
    assert (esc["escalated"], esc["accounts"], esc["arr"]) == (2, 2, 1500.0)
    assert esc["share_of_tickets"] == 0.5
    load = out["support_load.csv"].set_index(["dimension", "value"])
    assert load.loc[("category", "billing"), "tickets"] == 2
    assert load.loc[("category", "(not given)"), "escalated"] == 1


def test_themes_weighted_by_arr_and_split_by_source():
    themes = _small()["themes.csv"]
    churn = themes[themes["source_group"] == "churn"].set_index("theme")
    # B left with 500 ARR, C holds 100: support is named by both, pricing by B only.
    assert churn.loc["support", "arr"] == 600.0 and churn.loc["support", "accounts"] == 2
    assert churn.loc["pricing", "arr"] == 500.0
    assert churn.loc["pricing", "arr_share"] == pytest.approx(500 / 600)
    assert list(churn.index) == ["support", "pricing"]  # largest ARR first
    other = themes[themes["source_group"] == "other"].set_index("theme")
    assert list(other.index) == ["pricing"] and other.loc["pricing", "arr"] == 1000.0


def test_rows_after_the_as_of_date_change_nothing():
    before = _small()
    late = _small(
        surveys=_surveys([("B", "2026-10-01", "nps", 0.0), ("A", "2026-10-02", "csat", 1.0)]),
        support_tickets=_tickets([("T9", "A", "2026-10-01 00:00", None, "urgent", "bug", True, 1.0)]),
        interviews=_interviews([("A", "2026-10-03", "churn_interview", "pricing")]),
    )
    assert json.dumps(late["voice_of_customer.json"], sort_keys=True, default=str) == \
        json.dumps(before["voice_of_customer.json"], sort_keys=True, default=str)
    for name in ("voice_trend.csv", "themes.csv", "support_load.csv"):
        pd.testing.assert_frame_equal(late[name], before[name])


def test_missing_tables_give_reasons_and_notes():
    out = compute(pipeline.context(Inputs.from_frames(accounts=_accounts(), renewals=_renewals()), PERIOD, SETTINGS), {})
    facts = out["voice_of_customer.json"]
    for key in ("nps", "csat", "support", "backlog", "escalations", "themes", "touchpoints"):
        assert facts["reasons"][key], key
        assert facts[key] is None, key
    assert all(out[n] is None for n in ("voice_trend.csv", "themes.csv", "support_load.csv", "voice_by_quadrant.csv"))
    view = _view(out)
    shown = {name: str(getattr(show, name)(view)) for name in
             ("headline", "trend", "quadrants", "support", "backlog", "touchpoints", "themes", "findings")}
    assert "Not given: surveys, support_tickets, interviews, touchpoints" in shown["headline"]
    assert "No surveys table" in shown["trend"] and "surveys.csv" in shown["trend"]
    assert "No support_tickets table" in shown["backlog"] and "No interviews table" in shown["themes"]
    assert "No touchpoints table" in shown["touchpoints"]
    assert "no surveys table was given" in shown["findings"]


def test_a_period_past_the_data_has_null_figures_with_the_reason(sample_inputs):
    out = compute(pipeline.context(sample_inputs, parse_period("2027Q2"), SETTINGS), {})
    facts = out["voice_of_customer.json"]
    assert not facts["covered"] and "before the as-of date" in facts["reason"]
    assert facts["nps"] is None and facts["reasons"]["nps"] == facts["reason"]
    assert "are not shown" in str(show.headline(_view(out)))


# --------------------------------------------------------------------------
# What is written and shown


def test_outputs_read_back_exactly_and_hold_no_free_text(sample_voice, sample_inputs, tmp_path):
    pipeline.write(sample_voice, tmp_path, ["voice_of_customer"])
    for out in NODES["voice_of_customer"].outputs:
        back = pipeline.read(tmp_path, out.name)
        if out.is_csv:
            assert list(back.columns)[: len(out.columns)] == list(out.columns), out.name
            pd.testing.assert_frame_equal(back, sample_voice[out.name], check_dtype=False)
    written = " ".join(p.read_text() for p in tmp_path.iterdir())
    comments = {c for c in sample_inputs.table("surveys")["comment"].dropna() if c}
    notes = set(sample_inputs.table("interviews")["notes"].dropna())
    assert comments and notes
    assert not [c for c in comments | notes if c in written]
    assert "resp-0" not in written  # no respondent ids


def test_presenter_writes_the_data_in_sentences(sample_voice):
    view = _view(sample_voice)
    facts = sample_voice["voice_of_customer.json"]
    text = str(show.findings(view))
    assert f"is {facts['nps']['nps']:.0f} from {facts['nps']['responses']:,} responses" in text
    assert f"{facts['backlog']['open_tickets']:,} tickets were open on 30 Sep 2026" in text
    assert "Frustrated Power Users" in text or "Churn Risk" in text
    head = str(show.headline(view))
    assert "promoters (9-10) minus % detractors (0-6)" in head and "comment" in head
    assert "Great support team" not in head + text
    for name in ("trend", "themes"):
        assert "data:image/png;base64," in str(getattr(show, name)(view))
    assert "Theme" in str(show.themes(view)) and "Share of ARR heard" in str(show.themes(view))
