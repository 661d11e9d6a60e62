"""The run configuration, ``vga.toml``.

A user whose exports differ from the contract maps them here instead of
editing the files. Every key is optional; the defaults follow the metric
definitions. Example::

    [sources.accounts]
    path = "crm/accounts_export.xlsx"     # relative to the data folder
    encoding = "cp1252"                   # text files only; default UTF-8 (a BOM is fine)
    delimiter = ";"                       # CSV only; default ","
    decimal = ","                         # number convention of this file
    thousands = "."
    [sources.accounts.columns]            # contract name = name in your file
    account_id = "Account ID"
    arr = "ARR (EUR)"
    [sources.accounts.date_formats]       # only where dates are not ISO 8601
    contract_start = "%d/%m/%Y"

    [analysis]
    usage_threshold = 50
    health_threshold = 50
    health_colors = [50, 70, 85]          # red < 50 <= yellow < 70 <= lime < 85 <= green
    min_accounts = 10
    alpha = 0.05
    churn_lookback_months = 18
    coverage_tolerance_days = 7           # a source ending this many days early still counts
    slicing_dimensions = ["tier"]         # extra string columns of accounts
    redact_account_names = false

    [usage]
    core_features = ["dashboards", "reports"]
    value_events = ["report_shared"]

    [health]                              # the composite, where no CS score exists
    weights = {nps = 1, csat = 1, support = 1, touchpoints = 1}
    max_age_days = {nps = 365, csat = 180, support = 90, touchpoints = 120}

    [quick_wins]                          # what enters the report's "Do first"
    min_churn_points = 5                  # a tested gap churning at least 5 points more than its reference...
    min_rate_ratio = 1.25                 # ...or at 1.25 times its rate

    [report]
    currency = "EUR"                      # shown with every amount

    [churn_labels]                        # other churn labels, compared in the report
    "flagged in the CRM" = "SELECT account_id FROM read_csv('crm.csv') WHERE churned = 'Yes'"

    [warehouse]
    url = "postgresql://user@host/db"     # events read where they live
    url_env = "VGA_WAREHOUSE_URL"         # or: the environment variable holding the URL
    events_table = "usage_events"

The resolved configuration (defaults filled in) is recorded with its hash in
every run's ``manifest.json``.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import tomllib
from pathlib import Path

from .contract import TABLES
from .credentials import redact, secrets_in
from .credentials import scrub as scrub_secrets
from .errors import UsageError
from .limits import DEFAULTS as LIMIT_DEFAULTS
from .limits import problem as limit_problem
from .privacy import mask_contacts, mask_tree

DEFAULTS: dict = {
    "sources": {},
    "analysis": {
        "usage_threshold": 50.0,
        "health_threshold": 50.0,
        "health_colors": [50.0, 70.0, 85.0],
        "min_accounts": 10,
        # A slicing dimension's largest groups the Cox model keeps apart (its largest the reference); the others
        # are pooled into one group, dimension[(other)] (vga/analysis/survival.py).
        "cox_max_groups": 10,
        "alpha": 0.05,
        "churn_lookback_months": 18,
        "slicing_dimensions": [],
        "redact_account_names": False,
        "data_end": "",  # ISO date the data runs to; empty: the latest date found in the data
        # A source ending at most this many days before a date still reaches it (vga/analysis/coverage.py).
        "coverage_tolerance_days": 7,
        "assumptions": [],  # what a mapping assumed (e.g. a snapshot's as-of date); shown in the report
    },
    "usage": {
        "core_features": [],
        "value_events": [],
        "weights": {"core_adoption": 1.0, "active_days": 1.0, "session_depth": 1.0, "workflow_completion": 1.0},
        "target_active_days": 20,
        "target_events_per_session": 8.0,
    },
    "health": {
        "weights": {"nps": 1.0, "csat": 1.0, "support": 1.0, "touchpoints": 1.0},
        "max_age_days": {"nps": 365, "csat": 180, "support": 90, "touchpoints": 120},
    },
    # Bounds on the work a data folder can make a run do (vga/limits.py); only a
    # vga.toml of the user's own may set them.
    "limits": dict(LIMIT_DEFAULTS),
    "warehouse": {"url": "", "url_env": "", "events_table": "usage_events",
                  "events_path": ""},  # or Parquet files the engine reads (a lake folder, s3://...), instead of a table
    # Step 3's early-warning backtest (vga/analysis/early_warning.py): each signal's thresholds.
    "early_warning": {
        "usage_drop_share": 0.5,  # events in the last 30 days below this share of the 90 days before's average
        "usage_min_events": 10,  # ...when that average is at least this many events per 30 days...
        "usage_drop_days": 14,  # ...on this many days in a row
        "health_drop_points": 15,  # health score down by this many points in 90 days
        "ticket_spike_min": 3,  # at least this many tickets opened in 30 days...
        "ticket_spike_factor": 2.0,  # ...and this many times the 90 days before's average
    },
    # Step 4's renewal and expansion models (vga/analysis/models.py).
    "models": {
        "min_events_per_term": 10,  # fewer churned (or retained) decisions per term: no model, and the report says so
        "test_share": 0.3,  # the newest share of decisions, by date, held out for the out-of-time validation
    },
    "programme": {"sponsor": "", "task_force": [], "workstreams": []},
    # Other churn labels an export carries (label = DuckDB query over the data
    # folder returning account_id): counted against the figures' churn in the
    # report, so that disagreeing sources are visible, not hidden.
    "churn_labels": {},
    "report": {
        "currency": "",  # e.g. "EUR": shown as a code before amounts; empty: plain numbers
        "top_value_gaps": 5,  # rows of the executive summary's top value gaps
        "top_quick_wins": 5,  # rows of the executive summary's top quick wins
    },
    # What the headline figures should be, as fractions (nrr = 1.0 is 100%); "" = no target. The summary's
    # "In short" says each figure against its target, or that none is set (vga/analysis/news.py).
    "targets": {"nrr": "", "grr": "", "logo_churn_rate": ""},
    "interventions": {
        # Step 9's target: move this share of the accounts whose health colour
        # was in from_colors at the previous period's as-of date into to_colors.
        "target_share": 0.2,
        "from_colors": ["red", "yellow"],
        "to_colors": ["lime", "green"],
    },
    "quick_wins": {
        "max_account_wins": 50,  # account-level wins listed (the highest ARR at stake first)
        # A tested gap enters "Do first" only when its group churns at least this many
        # points more than the reference, or at this ratio (vga/analysis/money_at_risk.py).
        "min_churn_points": 5.0,
        "min_rate_ratio": 1.25,
        # Each action's due date: before a quarter of the ARR it covers comes up for renewal, at the
        # latest this many days after the as-of date (vga/analysis/quick_wins.py).
        "due_days": 30,
        # action kind (a playbook key) -> the role that owns it, e.g. slice = "VP Customer Success";
        # not set: the accounts' CSMs where the data has them, else the team of the gap's kind.
        "owners": {},
        # gap -> recommended action; a gap not listed here gets the "default" action
        "playbook": {
            "Frustrated Power Users": "Run a fix-what-hurts review: walk the open tickets and the last survey comments with the account, and agree a fix date",
            "Churn Risk": "Executive check-in and a success plan with one measurable outcome",
            "Relationship-Dependent": "Adoption push: a workshop on the core features they do not use",
            "usage_decline": "Call the main users: find what changed since usage fell and re-onboard the team",
            "health_drop": "Review the health drivers that fell and act on the worst one this month",
            "open_escalation": "Close the escalated tickets: name an owner and a date for each",
            "missed_milestone": "Finish onboarding: schedule the missing milestone with the account's admin",
            # actions for a whole group of accounts (a systemic gap), not one account
            "systemic_frustrated": "Run a fix-what-hurts programme: one review per Frustrated Power User, largest ARR "
                                   "first, each ending with an agreed fix date",
            "systemic_churn_risk": "Give every Churn Risk account a success plan with one measurable outcome, largest "
                                   "ARR first",
            "systemic_milestone": "Run an onboarding push: find what blocks this milestone and get it done at every "
                                  "account without it, largest ARR first",
            "slice": "Review the accounts of this slice with its owner: find the common cause of churn",
            "workflow_step": "Fix or simplify the step where most runs are abandoned",
            "ticket_category": "Root-cause the recurring ticket category with product and support",
            "default": "Review the account with its CSM",
        },
    },
}

#: The fewest days an action may be due after the as-of date (vga.analysis.quick_wins.MIN_DUE_DAYS).
MIN_DUE_DAYS = 7

WORKSTREAM_KEYS = {"name", "owner", "start", "due", "status"}
WORKSTREAM_STATUSES = ("not started", "on track", "at risk", "late", "done")

SOURCE_KEYS = {"path", "sql", "columns", "decimal", "thousands", "date_formats", "encoding", "delimiter"}


def _merge(base: dict, override: dict, where: str) -> dict:
    out = copy.deepcopy(base)
    for key, value in override.items():
        if key not in base:
            raise UsageError(
                f"unknown setting '{where}{key}' in the configuration; known: {', '.join(sorted(base))}"
            )
        if isinstance(base[key], dict) and base[key] and isinstance(value, dict):
            out[key] = _merge(base[key], value, f"{where}{key}.")
        else:
            out[key] = value
    return out


def _check_sources(sources: dict, file: str) -> dict:
    for table, spec in sources.items():
        if table not in TABLES:
            raise UsageError(
                f"{file}: [sources.{table}] is not a table of the data contract; tables: {', '.join(TABLES)}"
            )
        if not isinstance(spec, dict):
            raise UsageError(f"{file}: [sources.{table}] must be a table of settings")
        unknown = set(spec) - SOURCE_KEYS
        if unknown:
            raise UsageError(
                f"{file}: unknown setting(s) {sorted(unknown)} under [sources.{table}]; known: {sorted(SOURCE_KEYS)}"
            )
        if "sql" in spec:
            if not isinstance(spec["sql"], str) or not spec["sql"].strip():
                raise UsageError(f"{file}: [sources.{table}] sql must be a DuckDB query (text)")
            if "path" in spec:
                raise UsageError(f"{file}: [sources.{table}] has both path and sql; keep one")
        for contract_name in spec.get("columns", {}):
            known = TABLES[table].column(contract_name)
            if known is None:
                names = [c.name for c in TABLES[table].columns]
                raise UsageError(
                    f"{file}: [sources.{table}.columns] maps '{contract_name}', which is not a column of "
                    f"{table}; columns: {', '.join(names)}"
                )
    return sources


def _check_programme(programme: dict, file: str) -> None:
    """Each ``[[programme.workstreams]]`` needs a name, an owner and ISO dates."""
    from datetime import date

    if not isinstance(programme.get("task_force"), list):
        raise UsageError(f"{file}: [programme] task_force must be a list of names and roles")
    for i, stream in enumerate(programme.get("workstreams") or [], start=1):
        where = f"{file}: workstream {i} of [programme]"
        if not isinstance(stream, dict):
            raise UsageError(f"{where} must be a table ([[programme.workstreams]])")
        unknown = set(stream) - WORKSTREAM_KEYS
        if unknown:
            raise UsageError(f"{where}: unknown key(s) {sorted(unknown)}; known: {sorted(WORKSTREAM_KEYS)}")
        for key in ("name", "owner", "due"):
            if not str(stream.get(key, "")).strip():
                raise UsageError(f"{where}: '{key}' is required")
        for key in ("start", "due"):
            if stream.get(key):
                try:
                    date.fromisoformat(str(stream[key]))
                except ValueError:
                    raise UsageError(f"{where}: {key} = '{stream[key]}' is not an ISO date (YYYY-MM-DD)") from None
        status = str(stream.get("status", "not started")).strip().lower()
        if status not in WORKSTREAM_STATUSES:
            raise UsageError(f"{where}: status '{stream['status']}' is not one of {', '.join(WORKSTREAM_STATUSES)}")


def _check_analysis(config: dict, file: str) -> None:
    """Ranges the metric definitions fix."""
    lookback = config["analysis"]["churn_lookback_months"]
    if not isinstance(lookback, int) or isinstance(lookback, bool) or not 12 <= lookback <= 24:
        raise UsageError(f"{file}: [analysis] churn_lookback_months = {lookback!r}; it must be a whole number from 12 to 24")
    tolerance = config["analysis"]["coverage_tolerance_days"]
    if not isinstance(tolerance, int) or isinstance(tolerance, bool) or not 0 <= tolerance <= 90:
        raise UsageError(f"{file}: [analysis] coverage_tolerance_days = {tolerance!r}; it must be a whole number of "
                         "days from 0 to 90")
    max_groups = config["analysis"]["cox_max_groups"]
    if not isinstance(max_groups, int) or isinstance(max_groups, bool) or not 1 <= max_groups <= 100:
        raise UsageError(f"{file}: [analysis] cox_max_groups = {max_groups!r}; it must be a whole number of groups "
                         "from 1 to 100 (the largest groups of a slicing dimension the Cox model keeps apart; the others "
                         "are pooled as dimension[(other)])")
    points, ratio = config["quick_wins"]["min_churn_points"], config["quick_wins"]["min_rate_ratio"]
    if isinstance(points, bool) or not isinstance(points, (int, float)) or not 0 <= points <= 100:
        raise UsageError(f"{file}: [quick_wins] min_churn_points = {points!r}; it must be percentage points of churn "
                         "from 0 to 100 (5 = five points)")
    if isinstance(ratio, bool) or not isinstance(ratio, (int, float)) or not ratio >= 1:
        raise UsageError(f"{file}: [quick_wins] min_rate_ratio = {ratio!r}; it must be a churn rate ratio of at least 1 "
                         "(1.25 = a quarter more churn)")
    for key, value in config["targets"].items():
        if value == "":
            continue
        top = 1.0 if key == "logo_churn_rate" else 3.0
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= top:
            raise UsageError(f"{file}: [targets] {key} = {value!r}; it must be a fraction from 0 to {top:g} "
                             f"({'0.9 = 90%' if key != 'logo_churn_rate' else '0.1 = 10%'}), or \"\" for no target")
    due = config["quick_wins"]["due_days"]
    if not isinstance(due, int) or isinstance(due, bool) or not MIN_DUE_DAYS <= due <= 365:  # a week to act at least
        raise UsageError(f"{file}: [quick_wins] due_days = {due!r}; it must be a whole number of days from "
                         f"{MIN_DUE_DAYS} to 365 (the latest an action is due after the as-of date)")
    owners = config["quick_wins"]["owners"]
    if not isinstance(owners, dict):
        raise UsageError(f"{file}: [quick_wins.owners] must be a table of action kind = \"role\"")
    for key, role in owners.items():
        if key not in config["quick_wins"]["playbook"]:
            raise UsageError(f"{file}: [quick_wins.owners] {key!r} is not an action kind; kinds: "
                             f"{', '.join(sorted(config['quick_wins']['playbook']))}")
        if not isinstance(role, str) or not role.strip():
            raise UsageError(f"{file}: [quick_wins.owners] {key} = {role!r}; it must name a role or a person (text)")
    share = config["interventions"]["target_share"]
    if not isinstance(share, (int, float)) or not 0 < share <= 1:
        raise UsageError(f"{file}: [interventions] target_share = {share!r}; it must be a fraction above 0 and at most 1 (0.2 = 20%)")
    for label, query in config["churn_labels"].items():
        if not isinstance(query, str) or not query.strip():
            raise UsageError(f"{file}: [churn_labels] {label!r} must be a DuckDB query (text) returning account_id")
    for name, value in config["limits"].items():
        why = limit_problem(name, value)
        if why:
            raise UsageError(f"{file}: [limits] {name} = {value!r}: {why}")
    colors = {"red", "yellow", "lime", "green"}
    for key in ("from_colors", "to_colors"):
        bad = [c for c in config["interventions"][key] if c not in colors]
        if bad:
            raise UsageError(f"{file}: [interventions] {key} holds {bad}; colours are red, yellow, lime, green")


#: Bounds of a vga.toml, which may come with the data: its size and how deeply it nests.
MAX_CONFIG_BYTES = 1024 * 1024
MAX_NESTING = 12


def _depth(value, level: int = 0) -> int:
    if level > MAX_NESTING:
        return level
    if isinstance(value, dict):
        return max([_depth(v, level + 1) for v in value.values()] or [level + 1])
    if isinstance(value, list):
        return max([_depth(v, level + 1) for v in value] or [level + 1])
    return level


#: Sections a vga.toml that came with the data may not hold, and why: each
#: would let whoever sent the folder reach past it.
YOURS_ONLY = {
    "warehouse": "opens a connection (a warehouse or a Spark session)",
    "limits": "sets the bounds on its own queries and files",
}


def _check_trust(user: dict, file: Path) -> None:
    """A vga.toml found in the data folder may map columns and queries and
    set the analysis; it may not open a connection or lift a bound
    (:data:`YOURS_ONLY`). Refused in one line naming the route that works."""
    for section, why in YOURS_ONLY.items():
        given = user.get(section)
        if given:
            keys = ", ".join(sorted(given)) if isinstance(given, dict) else section
            raise UsageError(
                f"{file} came with the data folder and its [{section}] ({keys}) {why}: a data folder's vga.toml "
                f"may map columns and queries, never that. If this file is yours, pass it as --config {file}; else "
                f"put [{section}] in a vga.toml of your own and pass that with --config")


def load_config(path: str | Path | None = None, data_dir: str | Path | None = None,
                work_dir: str | Path | None = None) -> dict:
    """The resolved configuration: defaults overlaid with one vga.toml.

    Which one, first found (:func:`config_notice` says which was used):

    1. ``path`` (``--config``): the user's own, which may hold every section;
    2. ``<data_dir>/vga.toml``: it came with the data, from whoever sent
       the folder, so it may map columns and queries but not open a
       connection or raise a bound (:data:`YOURS_ONLY`; ``_trusted`` is false);
    3. ``<work_dir>/vga.toml``: the working folder's (``vga init`` writes
       one), the user's own, unless the working folder lies inside the data
       folder (then it came with the data and is not read);
    4. none: the defaults.

    Unknown keys are an error (a typo must not silently change a run).
    ``_source`` records which of the four it was (``"--config"``, ``"data
    folder"``, ``"working folder"``, ``"defaults"``) and ``_passed_over`` a
    working folder's vga.toml that the data folder's took precedence over.
    """
    user: dict = {}
    file = None
    trusted = True
    source = "--config" if path is not None else "defaults"
    passed_over = None
    mine = _working_config(work_dir, data_dir)
    if path is None and data_dir is not None and (Path(data_dir) / "vga.toml").is_file():
        path = Path(data_dir) / "vga.toml"
        trusted = False
        source = "data folder"
        passed_over = str(mine) if mine is not None else None
    elif path is None and mine is not None:
        path, source = mine, "working folder"
    if path is not None:
        file = Path(path)
        if not file.is_file():
            raise UsageError(f"configuration file {file} not found")
        if file.stat().st_size > MAX_CONFIG_BYTES:
            raise UsageError(f"configuration file {file} is {file.stat().st_size:,} bytes, more than the "
                             f"{MAX_CONFIG_BYTES:,} a vga.toml may have")
        try:
            user = tomllib.loads(file.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise UsageError(f"configuration file {file} is not valid TOML: {exc}") from None
        except RecursionError:
            raise UsageError(f"configuration file {file} is nested too deeply to be a vga.toml "
                             f"(at most {MAX_NESTING} levels)") from None
        if _depth(user) > MAX_NESTING:
            raise UsageError(f"configuration file {file} is nested more than {MAX_NESTING} levels deep, which no "
                             "setting of a vga.toml needs")
    if not trusted:
        _check_trust(user, file)
    sources = _check_sources(user.pop("sources", {}), str(file))
    config = _merge(DEFAULTS, user, "")
    # Free text a report shows (who runs the programme, what a mapping assumed, label names)
    # keeps no one's contact details (vga.privacy).
    config["programme"] = mask_tree(config["programme"])
    config["quick_wins"]["owners"] = mask_tree(config["quick_wins"]["owners"])  # an owner named with a phone or e-mail
    config["analysis"]["assumptions"] = mask_tree(list(config["analysis"].get("assumptions") or []))
    config["churn_labels"] = {mask_contacts(str(k)): v for k, v in config["churn_labels"].items()}
    _check_programme(config["programme"], str(file))
    _check_analysis(config, str(file))
    config["sources"] = sources
    config["_file"] = str(file) if file else None
    config["_trusted"] = trusted
    config["_source"] = source
    config["_passed_over"] = passed_over
    return config


def _working_config(work_dir, data_dir) -> Path | None:
    """``<work_dir>/vga.toml`` when it exists and the working folder is not
    (inside) the data folder."""
    if work_dir is None or not (Path(work_dir) / "vga.toml").is_file():
        return None
    if data_dir is not None:
        try:
            Path(work_dir).resolve().relative_to(Path(data_dir).resolve())
            return None
        except ValueError:
            pass
    return Path(work_dir) / "vga.toml"


def config_notice(config: dict, given: str | Path | None = None) -> str:
    """The line every command prints to say which configuration it used (see
    :func:`load_config` for the order they are looked for in). A file found
    in the data folder came with the data: it is used, and said, never
    silently; a working folder's vga.toml that it took precedence over is
    named with the way to use it instead."""
    source = config.get("_source") or ("--config" if given else "data folder" if config.get("_file") else "defaults")
    file = config.get("_file")
    if source == "defaults":
        return ("configuration: the defaults (no --config given, and no vga.toml in the data folder or the "
                "working folder)")
    if source == "--config":
        return f"configuration: {file} (given with --config)"
    if source == "working folder":
        return f"configuration: {file} (the working folder's; the data folder has none)"
    queries = bool(config.get("churn_labels")) or any("sql" in s for s in (config.get("sources") or {}).values())
    notes = ["found in the data folder: it may map columns and queries, not open a connection"]
    if queries:
        notes.append("its mapping queries read only the data folder's files they name, bounded in time and memory")
    if config.get("_passed_over"):
        notes.append(f"{config['_passed_over']} is not read, as the data folder's comes first; pass "
                     f"--config {config['_passed_over']} to use yours")
    return f"configuration: {file} ({'; '.join(notes)})"


def config_hash(config: dict) -> str:
    """sha256 of the resolved configuration as it may be written down
    (:func:`redacted`, canonical JSON): a fingerprint that names the
    configuration, never one from which a password could be guessed."""
    return hashlib.sha256(json.dumps(redacted(config), sort_keys=True, default=str).encode()).hexdigest()


def source_spec(config: dict, table: str) -> dict:
    """How ``table``'s file or query is read (``[sources.<table>]``: path or
    sql, columns, decimal, thousands, date_formats, encoding, delimiter);
    empty when the configuration says nothing of it."""
    return (config.get("sources") or {}).get(table) or {}


def warehouse_url(config: dict) -> str:
    """The warehouse URL: ``[warehouse] url``, else the environment variable
    named by ``[warehouse] url_env`` (so that no password need be written in
    a file); empty when events are read from the data folder."""
    section = config.get("warehouse") or {}
    url = (section.get("url") or "").strip()
    if url:
        return url
    variable = (section.get("url_env") or "").strip()
    if variable:
        value = os.environ.get(variable, "").strip()
        if not value:
            raise UsageError(f"[warehouse] url_env names the environment variable {variable}, which is not set")
        return value
    return ""


def url_secrets(url: str) -> list[str]:
    """Every secret value in ``url`` (a URL or a libpq connection string):
    :func:`vga.credentials.secrets_in`."""
    return secrets_in(url)


def redact_url(url: str) -> str:
    """``url`` with every secret replaced by ``***`` (for manifests and
    messages): :func:`vga.credentials.redact`."""
    return redact(url)


def redacted(config: dict) -> dict:
    """The configuration as it may be written down: URL passwords redacted."""
    out = copy.deepcopy({k: v for k, v in config.items() if not k.startswith("_")})
    section = out.get("warehouse") or {}
    if section.get("url"):
        section["url"] = redact_url(section["url"])
    return out


def scrub(text: str, config: dict) -> str:
    """``text`` with every secret of the warehouse URL (if any) taken out:
    the URL itself redacted, then each secret value wherever it stands, and
    any other URL password or ``password=`` left."""
    try:
        url = warehouse_url(config)
    except UsageError:
        url = ""
    if url:
        text = text.replace(url, redact_url(url))
    return scrub_secrets(text, secrets_in(url))
