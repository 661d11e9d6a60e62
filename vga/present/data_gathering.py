"""Step 2 · Data gathering: what went in, what was set aside, what is covered."""

from __future__ import annotations

import pandas as pd

from . import View
from ..outputs import ACCOUNT_COVERAGE_CSV, DATA_GATHERING_JSON, QUARANTINE_REASONS_CSV, SOURCES_CSV
from . import Chapter, plots
from .blocks import count, figure, finding, kpis, money, note, pct, stack, table

CHAPTER = Chapter(number=2, title="Data gathering", notebook="02_data_gathering", node="data_gathering", place=2, appendix=True)


def coverage(view: View):
    """The period's coverage verdict and every freshness warning, first."""
    facts = view[DATA_GATHERING_JSON]
    cov = facts["coverage"]
    # The warnings themselves open the report (its banner): here, a pointer.
    n = len(facts["warnings"])
    parts = [note(f"{n} note{'s' if n > 1 else ''} on the data open the report; each says what it means for the "
                  "figures.", "warn")] if n else []
    # Sources that end a little early but within the tolerance: said, not hidden.
    parts += [note(n) for n in cov.get("notes") or []]
    if cov["data_end"]:
        plans = "".join(f" {p['table'].capitalize()} plans ({p['column']}) run to {p['last_date']}: dates something is "
                        "due, not history, so they are not part of how far the data runs."
                        for p in facts.get("plans") or [] if p["last_date"] > cov["data_end"])
        parts.insert(0, note(f"The data runs to {cov['data_end']} (latest date in {cov['data_end_from']}); "
                             f"this run is as of {cov['as_of']}.{plans}"))
    return stack(*parts)


def sources(view: View):
    """Per table: rows read, accepted and set aside, and the dates it covers."""
    frame = view[SOURCES_CSV].copy()
    for col in ("first_date", "last_date"):
        frame[col] = pd.to_datetime(frame[col]).dt.strftime("%Y-%m-%d").fillna("")
    fig, ax = plots.new_figure(plots.WIDTH, max(2.2, 0.32 * len(frame) + 1.4))
    quality = {r["table"]: r for _, r in frame.iterrows()}
    plots.data_quality_bars(quality, ax=ax)
    read, held = int(frame["rows_read"].sum()), int(frame["rows_quarantined"].sum())
    return stack(
        table(frame, {c: count for c in ("rows_read", "rows_accepted", "rows_quarantined", "cells_blanked")},
              names={"rows_read": "rows read", "rows_accepted": "accepted", "rows_quarantined": "quarantined",
                     "cells_blanked": "cells blanked", "dated_by": "dated by", "first_date": "from",
                     "last_date": "to"}),
        note(f"{len(frame)} tables, {read:,} rows read; {held:,} rows ({pct(held / read if read else 0, 2)}) "
             "quarantined, each with its reason in the run's quarantine folder."),
        figure(fig, "Bar chart of the share of rows quarantined in each table",
               "Rows quarantined as a share of rows read, per table."),
    )


def reasons(view: View):
    """Each kind of reason with its count, one real example and the first rows."""
    frame = view[QUARANTINE_REASONS_CSV]
    if not len(frame):
        return note("No row was quarantined and no cell blanked.")
    return table(frame, {"count": count}, max_rows=60,
                 names={"kind": "reason", "example": "example (personal values redacted)", "first_rows": "first rows"})


def identity(view: View):
    """How product events were tied to accounts."""
    resolution = view[DATA_GATHERING_JSON]["identity_resolution"]
    if resolution is None:
        return note("No usage_events table was given: usage comes from accounts.usage_score.", "skip")
    return kpis([
        ("resolution rate", pct(resolution["resolution_rate"], 2), "events tied to an account"),
        ("through users", count(resolution["resolved_through_users"]), "events resolved via users"),
        ("through e-mail domain", count(resolution["resolved_through_email_domain"]), "events resolved via domain"),
        ("unresolved", count(resolution["unresolved_quarantined"]), "events quarantined"),
    ])


def missing_tables(view: View):
    """Optional tables not given, and what cannot be shown without them."""
    rows = view[DATA_GATHERING_JSON]["missing_tables"]
    if not rows:
        return note("Every table of the data contract was given.")
    return table(pd.DataFrame(rows), names={"needed_for": "needed for"})


def account_coverage(view: View):
    """Per table: the share of active accounts, and of ARR, with any data."""
    frame = view[ACCOUNT_COVERAGE_CSV]
    if frame is None or not len(frame):
        return note("Only accounts were given: no other table covers any account.", "skip")
    if frame["account_share"].isna().all():
        return note("No account is active (ARR above 0) at the as-of date, so no source's share of active accounts "
                    "can be given.", "skip")
    return table(frame, {"accounts_with_data": count, "account_share": pct, "arr_with_data": money, "arr_share": pct},
                 names={"accounts_with_data": "active accounts with data", "account_share": "share of active accounts",
                        "arr_with_data": "their ARR", "arr_share": "share of ARR"})


def findings(view: View):
    """What went in, in sentences."""
    frame, facts = view[SOURCES_CSV], view[DATA_GATHERING_JSON]
    read, held = int(frame["rows_read"].sum()), int(frame["rows_quarantined"].sum())
    lines = [f"{len(frame)} tables gave {read:,} rows; {held:,} were set aside ({pct(held / read if read else 0, 2)}), "
             "each with its reason, and none was dropped silently."]
    cover = view[ACCOUNT_COVERAGE_CSV]
    # Interviews, interventions and fixes concern some accounts by nature: not "thin".
    broad = cover[~cover["table"].isin(["interviews", "interventions", "product_fixes"])] if cover is not None else None
    if facts.get("renewals_shape") == "cancellations_only":
        # Cancelled accounts hold no ARR now: a share of ARR with a row there is 0 by construction.
        lines.append("The renewals export holds cancellations only (every row takes ARR to 0): it says who left and "
                     "when; accounts without a row there are counted as keeping their ARR.")
        broad = broad[broad["table"] != "renewals"] if broad is not None else None
    if broad is not None and broad["arr_share"].notna().any():
        thin = broad.sort_values("arr_share").iloc[0]
        lines.append(f"The thinnest source is {thin['table']}: {pct(thin['arr_share'])} of ARR has any row there by the "
                     "as-of date, so its figures speak for those accounts only.")
    if facts["warnings"]:
        lines.append("The notes at the top of the report say where the data falls short of the period.")
    tables = [m for m in facts["missing_tables"] if "." not in m["table"]]
    columns = [m["table"] for m in facts["missing_tables"] if "." in m["table"]]
    if tables:
        lines.append(f"{len(tables)} optional tables were not given; the sections that need them say so.")
    if columns:
        lines.append(f"Given without a column some analysis needs: {', '.join(columns)}; those analyses say so.")
    return stack(*[finding(line) for line in lines])
