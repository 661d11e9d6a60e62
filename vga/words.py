"""The reader's words for the codes the data and the analyses use.

One naming table for the report: slicing dimensions, behaviours, onboarding
milestones, themes and signals are codes in the results files
(``channel_partner``, ``uses_automations``, ``missing_feature``) and words in
the report ("channel partner", "use of automations", "missing feature").
Every presenter names things through these functions, so the same thing
reads the same everywhere, and a code never reaches a sentence.
"""

from __future__ import annotations

#: Slicing dimensions (the contract's optional ``accounts`` columns).
DIMENSIONS = {
    "segment": "segment", "region": "region", "vertical": "vertical", "product": "product", "persona": "persona",
    "use_case": "use case", "csm": "CSM", "sales_rep": "sales rep", "channel_partner": "channel partner",
}

#: Behaviour measures (``behaviours.csv``) that are not a feature or a milestone.
MEASURES = {
    "core_adoption": "core-feature adoption",
    "days_to_first_value": "days to first value",
    "tickets": "support tickets opened in 90 days",
    "escalated_tickets": "escalated tickets opened in 90 days",
    "courses_completed": "training courses completed",
    "trained": "completed any training",
}


def plain(code) -> str:
    """A code in words: underscores become spaces (``missing_feature`` ->
    "missing feature"); anything else is kept as it is."""
    return str(code).replace("_", " ").strip()


def dimension(code: str) -> str:
    """A slicing dimension in words ("channel partner", "CSM")."""
    return DIMENSIONS.get(code, plain(code))


def slice_name(dimension_code: str, value) -> str:
    """A slice in words: "region LATAM", "CSM Jamie Novak"."""
    return f"{dimension(dimension_code)} {value}"


def measure(code: str) -> str:
    """A behaviour measure in words: ``uses_automations`` -> "use of
    automations", ``milestone_integration_connected`` -> "onboarding
    milestone integration connected"."""
    if code.startswith("uses_"):
        return f"use of {plain(code[len('uses_'):])}"
    if code.startswith("milestone_"):
        return f"onboarding milestone {plain(code[len('milestone_'):])}"
    return MEASURES.get(code, plain(code))


def feature(code: str) -> str:
    """A product feature or milestone name in words."""
    return plain(code)


def plural(n, one: str, many: str | None = None) -> str:
    """``n`` with its noun, singular or plural, and thousands separators:
    "1 day", "2 days", "1,500 accounts"."""
    many = many or one + "s"
    value = int(n) if float(n) == int(n) else n
    text = f"{value:,}" if isinstance(value, int) else f"{value:,.1f}"
    return f"{text} {one if value == 1 else many}"


def times(ratio: float) -> str:
    """A ratio as "how many times as often": "7.1x", "2x"."""
    if ratio != ratio:
        return "–"
    if ratio == float("inf"):
        return "many times"
    return f"{ratio:.1f}x" if ratio < 10 else f"{ratio:.0f}x"


def term(code: str) -> str:
    """A model term in words: ``csm[Jamie Novak]`` -> "CSM Jamie Novak",
    ``milestone_missed[admin_setup]`` -> "onboarding milestone admin setup
    missed"; a term without brackets as :func:`measure` names it."""
    name, bracket, value = str(code).partition("[")
    if not bracket:
        return measure(name)
    value = value[:-1] if value.endswith("]") else value
    if name == "milestone_missed":
        return f"onboarding milestone {plain(value)} missed"
    return slice_name(name, value)


#: Columns of result tables whose values are codes from the data or the
#: configuration (themes, features, workflows, milestones): shown in words.
CODE_COLUMNS = {"theme", "churn_reason", "feature", "workflow", "last_step", "step", "milestone", "category",
                "core_feature", "term", "playbook", "dimension"}


def signed(value: float, digits: int = 1) -> str:
    """A signed number that never reads "-0.0" or "+0.0": rounded first,
    and a difference that rounds to nothing reads "0.0"."""
    v = round(float(value), digits) + 0.0
    return f"{v:,.{digits}f}" if v == 0 else f"{v:+,.{digits}f}"
