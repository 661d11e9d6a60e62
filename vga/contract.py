"""The input data contract, as code.

Every table and column of the contract (``shared/spec/data-contract.md``) is
declared here once, with its type, whether it is required, its allowed values
or range and a description. The loader parses and checks against these
declarations, :func:`pandera_schema` turns them into pandera schemas that
validate what the loader accepted, and :func:`data_dictionary` renders them
for the docs site (the data contract page) and the data-gathering notebook.

Column types:

``id``         identifier, compared exactly as trimmed text
``str``        free text
``number``     decimal number (``.`` separator unless configured), no inf/nan
``integer``    whole number; ``7.0`` is 7, ``7.5`` is invalid
``date``       ISO 8601 date; a timestamp keeps its UTC date
``timestamp``  ISO 8601, with or without offset; stored as naive UTC
``bool``       true/false, yes/no, t/f, 1/0 in any case
``enum``       one of ``choices``, any case, stored lower case
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    required: bool = False
    description: str = ""
    min: float | None = None
    max: float | None = None
    choices: tuple[str, ...] = ()
    personal: bool = False  # never shown in outputs; redacted in quarantine


@dataclass(frozen=True)
class Table:
    name: str
    description: str
    columns: tuple[Column, ...]
    unique_key: str | None = None
    references_account: bool = True
    # (earlier, later): a row whose later value is before the earlier one is quarantined
    date_order: tuple[tuple[str, str], ...] = ()
    # ``component_<name>`` columns (health_scores) are numbers 0..100
    component_prefix: str | None = None
    allow_folder: bool = False
    #: The date column that says when a row happened: the latest such date
    #: is how far the table covers (see :mod:`vga.analysis.coverage`). None: undated.
    occurred: str | None = None
    #: True for the activity logs, recorded as things happen (events,
    #: tickets, scores, renewals...): the latest of their dates is how far
    #: the data runs. Sparse or planned material (onboarding plans,
    #: interviews, fixes) is dated but does not say where the data ends.
    logs_activity: bool = False

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    def column(self, name: str) -> Column | None:
        for c in self.columns:
            if c.name == name:
                return c
        if self.component_prefix and name.startswith(self.component_prefix):
            return Column(name, "number", False, "a visible component of the score, 0..100", 0, 100)
        return None


PERSONAL_COLUMNS = ("user_id", "user_email", "email", "respondent_id")
#: What a personal value is replaced by wherever a row is shown (quarantine, messages).
REDACTED = "[redacted]"
ACCOUNT_DIMENSIONS = (
    "segment", "region", "vertical", "product", "persona", "use_case", "csm", "sales_rep", "channel_partner",
)


def _dims() -> tuple[Column, ...]:
    what = {
        "segment": "customer segment, e.g. SMB / Mid-Market / Enterprise",
        "region": "sales region; text such as NA is a value, not a missing cell",
        "vertical": "industry vertical",
        "product": "main product or plan",
        "persona": "buyer persona",
        "use_case": "primary use case",
        "csm": "customer success manager who owns the account",
        "sales_rep": "account executive",
        "channel_partner": "reseller or partner, if sold through one",
    }
    return tuple(Column(d, "str", False, f"slicing dimension: {what[d]}") for d in ACCOUNT_DIMENSIONS)


TABLES: dict[str, Table] = {}


def _add(table: Table) -> None:
    TABLES[table.name] = table


_add(Table(
    "accounts",
    "One row per customer account (required).",
    (
        Column("account_id", "id", True, "unique account identifier"),
        Column("arr", "number", True, "current annual recurring revenue, in the folder's one currency", min=0),
        Column("account_name", "str", False, "account name, shown in reports unless redacted"),
        *_dims(),
        Column("domain", "str", False, "e-mail domain used to resolve events to the account"),
        Column("contract_start", "date", False, "first contract start"),
        Column("renewal_date", "date", False, "next renewal date"),
        Column("health_score", "number", False, "CS-platform health at the run's as-of date, 0..100 (minimum viable mode)", 0, 100),
        Column("usage_score", "number", False, "usage depth at the run's as-of date, 0..100 (minimum viable mode)", 0, 100),
    ),
    unique_key="account_id",
    references_account=False,
))
_add(Table(
    "usage_events",
    "Product usage events, one row per event; may be a folder of Parquet files.",
    (
        Column("timestamp", "timestamp", True, "when the event happened"),
        Column("feature", "str", True, "feature or event name"),
        Column("user_id", "id", True, "user who acted (never shown in outputs)", personal=True),
        Column("account_id", "id", False, "account; if empty, resolved through users, then the e-mail domain"),
        Column("user_email", "str", False, "used only to resolve the account; never shown", personal=True),
        Column("session_id", "id", False, "session identifier"),
    ),
    allow_folder=True,
    logs_activity=True,
    occurred="timestamp",
))
_add(Table(
    "users",
    "Users and the account each belongs to.",
    (
        Column("user_id", "id", True, "user identifier (never shown in outputs)", personal=True),
        Column("account_id", "id", True, "account the user belongs to"),
        Column("email", "str", False, "e-mail address (never shown)", personal=True),
        Column("role", "str", False, "user role"),
    ),
    unique_key="user_id",
))
_add(Table(
    "workflow_runs",
    "Runs of key workflows: started, completed or abandoned.",
    (
        Column("account_id", "id", True, "account"),
        Column("workflow", "str", True, "workflow name"),
        Column("started_at", "timestamp", True, "when the run started"),
        Column("completed_at", "timestamp", False, "when it completed; empty = abandoned or still open"),
        Column("last_step", "str", False, "the step where an abandoned run stopped"),
        Column("user_id", "id", False, "user (never shown)", personal=True),
    ),
    date_order=(("started_at", "completed_at"),),
    logs_activity=True,
    occurred="started_at",
))
_add(Table(
    "support_tickets",
    "Support tickets.",
    (
        Column("ticket_id", "id", True, "unique ticket identifier"),
        Column("account_id", "id", True, "account"),
        Column("opened_at", "timestamp", True, "when the ticket was opened"),
        Column("closed_at", "timestamp", False, "when it was closed; empty = still open"),
        Column("priority", "enum", False, "ticket priority", choices=("low", "normal", "high", "urgent")),
        Column("category", "str", False, "ticket category"),
        Column("escalated", "bool", False, "whether the ticket was escalated"),
        Column("csat", "number", False, "ticket satisfaction, 1..5", 1, 5),
    ),
    unique_key="ticket_id",
    date_order=(("opened_at", "closed_at"),),
    logs_activity=True,
    occurred="opened_at",
))
_add(Table(
    "surveys",
    "Survey responses: NPS (0..10), CSAT, onboarding and offboarding (1..5).",
    (
        Column("account_id", "id", True, "account"),
        Column("responded_at", "timestamp", True, "when the response was given"),
        Column("kind", "enum", True, "survey kind", choices=("nps", "csat", "onboarding", "offboarding")),
        Column("score", "number", True, "nps: integer 0..10; other kinds: 1..5"),
        Column("comment", "str", False, "free-text comment"),
        Column("respondent_id", "id", False, "respondent (never shown)", personal=True),
    ),
    logs_activity=True,
    occurred="responded_at",
))
_add(Table(
    "health_scores",
    "Health scores the CS team already maintains, one row per account and date.",
    (
        Column("account_id", "id", True, "account"),
        Column("as_of", "date", True, "date the score applies to"),
        Column("score", "number", True, "health score, 0..100", 0, 100),
    ),
    component_prefix="component_",
    logs_activity=True,
    occurred="as_of",
))
_add(Table(
    "touchpoints",
    "Calls, meetings, QBRs and other contacts with the customer.",
    (
        Column("account_id", "id", True, "account"),
        Column("occurred_at", "timestamp", True, "when it happened"),
        Column("kind", "enum", False, "kind of contact", choices=("call", "meeting", "qbr", "ebr", "email", "other")),
        Column("sentiment", "enum", False, "sentiment recorded", choices=("positive", "neutral", "negative")),
        Column("csm", "str", False, "CSM who held it"),
    ),
    logs_activity=True,
    occurred="occurred_at",
))
_add(Table(
    "onboarding",
    "Onboarding milestones per account.",
    (
        Column("account_id", "id", True, "account"),
        Column("milestone", "str", True, "milestone name"),
        Column("completed_at", "timestamp", False, "when completed; empty = not completed"),
        Column("due_at", "timestamp", False, "when it was due"),
    ),
    occurred="completed_at",
))
_add(Table(
    "training",
    "Training courses completed.",
    (
        Column("account_id", "id", True, "account"),
        Column("course", "str", True, "course name"),
        Column("completed_at", "timestamp", True, "when completed"),
        Column("user_id", "id", False, "user (never shown)", personal=True),
    ),
    occurred="completed_at",
))
_add(Table(
    "renewals",
    "Every change of an account's ARR: renewal, upsell, downgrade, cancellation.",
    (
        Column("account_id", "id", True, "account"),
        Column("renewal_date", "date", True, "when the change took effect"),
        Column("arr_before", "number", True, "ARR just before", min=0),
        Column("arr_after", "number", True, "ARR just after; 0 = churned", min=0),
        Column("outcome", "enum", False, "renewed/expanded/downgraded/churned; the numbers win when it disagrees",
               choices=("renewed", "expanded", "downgraded", "churned")),
        Column("churn_reason", "str", False, "reason code"),
    ),
    logs_activity=True,
    occurred="renewal_date",
))
_add(Table(
    "interviews",
    "Qualitative evidence: churn and win/loss interviews, advisory boards, recordings.",
    (
        Column("account_id", "id", True, "account"),
        Column("held_at", "date", True, "when it was held"),
        Column("source", "enum", True, "kind of evidence",
               choices=("churn_interview", "win_loss", "advisory_board", "call_recording", "observation", "other")),
        Column("themes", "str", False, "tags separated by ';'"),
        Column("notes", "str", False, "free text"),
    ),
    occurred="held_at",
))
_add(Table(
    "interventions",
    "What the team did: playbooks, success plans, escalations.",
    (
        Column("account_id", "id", True, "account"),
        Column("started_at", "date", True, "when it started"),
        Column("playbook", "str", True, "playbook name"),
        Column("owner", "str", False, "owner"),
        Column("objective", "str", False, "objective"),
        Column("target_date", "date", False, "target date"),
        Column("status", "enum", False, "status", choices=("open", "achieved", "missed", "dropped")),
    ),
    occurred="started_at",
))
_add(Table(
    "product_fixes",
    "The loop from complaint to shipped fix.",
    (
        Column("fix_id", "id", True, "unique fix identifier"),
        Column("account_id", "id", True, "account that raised it"),
        Column("raised_at", "date", True, "when raised"),
        Column("shipped_at", "date", False, "when shipped"),
        Column("confirmed_at", "date", False, "when the customer confirmed it"),
    ),
    unique_key="fix_id",
    occurred="raised_at",
))


def pandera_schema(table: str, extra_columns: list[str] | tuple[str, ...] = ()):
    """A pandera ``DataFrameSchema`` for an accepted (parsed) table.

    Every column carries its description. Optional columns are nullable;
    unknown extra columns are allowed (``strict=False``).
    """
    import pandera.pandas as pa

    spec = TABLES[table]
    columns = {}
    names = [c.name for c in spec.columns] + [c for c in extra_columns if spec.column(c) is not None]
    for name in names:
        col = spec.column(name)
        checks = []
        if col.min is not None:
            checks.append(pa.Check.ge(col.min))
        if col.max is not None:
            checks.append(pa.Check.le(col.max))
        if col.choices:
            checks.append(pa.Check.isin(list(col.choices)))
        dtype = {
            "number": float, "integer": float, "bool": "boolean",
            "date": "datetime64[ns]", "timestamp": "datetime64[ns]",
        }.get(col.type)
        columns[name] = pa.Column(
            dtype, checks=checks, nullable=not col.required, required=col.required,
            description=col.description, title=name, coerce=dtype is not None,
        )
    if spec.unique_key:
        columns[spec.unique_key] = pa.Column(
            str, unique=True, nullable=False, description=TABLES[table].column(spec.unique_key).description
        )
    return pa.DataFrameSchema(columns, strict=False, name=table, description=spec.description)


def data_dictionary() -> pd.DataFrame:
    """The data contract as a table: table, column, required, type, meaning."""
    rows = []
    for t in TABLES.values():
        for c in t.columns:
            allowed = ""
            if c.choices:
                allowed = "|".join(c.choices)
            elif c.min is not None or c.max is not None:
                allowed = f"{'' if c.min is None else c.min:g}..{'' if c.max is None else c.max:g}" if c.max is not None else f">= {c.min:g}"
            rows.append({
                "table": t.name, "column": c.name, "required": c.required, "type": c.type,
                "allowed": allowed, "description": c.description,
            })
    return pd.DataFrame(rows)


def dictionary_markdown(level: int = 2) -> str:
    """The data dictionary as Markdown, one section per table, each under a
    heading of ``level`` (the docs site's data contract page is built from it)."""
    lines = []
    for t in TABLES.values():
        extra = ""
        if t.unique_key:
            extra += f" Unique key: `{t.unique_key}`."
        if t.allow_folder:
            extra += f" May be a folder `{t.name}/*.parquet`."
        if t.component_prefix:
            extra += f" Any number of `{t.component_prefix}<name>` columns (0..100) are shown as the score's parts."
        lines += [f"{'#' * level} {t.name}", "", t.description + extra, "", "| column | required | type | allowed | meaning |", "|---|---|---|---|---|"]
        for row in data_dictionary().query("table == @t.name").itertuples():
            allowed = row.allowed.replace("|", "\\|")
            lines.append(f"| `{row.column}` | {'yes' if row.required else ''} | {row.type} | {allowed} | {row.description} |")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


if __name__ == "__main__":
    print(dictionary_markdown(), end="")


def derived_outcome(renewals: pd.DataFrame) -> pd.Series:
    """The outcome each renewals row's numbers imply: ``churned`` when
    arr_after is 0, else ``expanded`` / ``downgraded`` / ``renewed``.

    Part of the contract: where a given ``outcome`` disagrees, the numbers
    win (the loader blanks the outcome) and retention follows the numbers.
    """
    before, after = renewals["arr_before"].astype(float), renewals["arr_after"].astype(float)
    return pd.Series(
        np.select([after == 0, after > before, after < before], ["churned", "expanded", "downgraded"], "renewed"),
        index=renewals.index,
        name="outcome",
    )
