"""The Usage-Health Account Quadrant, health colours and quadrant movement.

Definitions (metric definitions, "Usage-Health Account Quadrant"):

- High usage: usage score >= usage threshold (default 50); high health:
  health score >= health threshold (default 50). Scores are on 0..100.
- Champions (high, high), Frustrated Power Users (high usage, low health),
  Relationship-Dependent (low usage, high health), Churn Risk (low, low).
- An account lacking either score is ``Unscored``: shown and counted.
- Health colours: red < 50 <= yellow < 70 <= lime < 85 <= green; no score,
  no colour (empty string).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

CHAMPIONS = "Champions"
FRUSTRATED = "Frustrated Power Users"
RELATIONSHIP = "Relationship-Dependent"
CHURN_RISK = "Churn Risk"
UNSCORED = "Unscored"
QUADRANTS = (CHAMPIONS, FRUSTRATED, RELATIONSHIP, CHURN_RISK, UNSCORED)

DEFAULT_COLOR_BOUNDS = (50.0, 70.0, 85.0)  # red | yellow | lime | green


def assign_quadrant(
    usage_score: pd.Series,
    health_score: pd.Series,
    usage_threshold: float = 50.0,
    health_threshold: float = 50.0,
) -> pd.Series:
    """Quadrant name per row; ``Unscored`` where either score is missing."""
    usage = pd.to_numeric(usage_score, errors="coerce").astype(float)
    health = pd.to_numeric(health_score, errors="coerce").astype(float)
    high_usage = usage >= usage_threshold
    high_health = health >= health_threshold
    names = np.select(
        [
            usage.isna() | health.isna(),
            high_usage & high_health,
            high_usage & ~high_health,
            ~high_usage & high_health,
        ],
        [UNSCORED, CHAMPIONS, FRUSTRATED, RELATIONSHIP],
        default=CHURN_RISK,
    )
    return pd.Series(names, index=usage.index, name="quadrant")


def health_color(health_score: pd.Series, bounds: tuple[float, float, float] = DEFAULT_COLOR_BOUNDS) -> pd.Series:
    """``red``/``yellow``/``lime``/``green`` per score; empty string when missing."""
    score = pd.to_numeric(health_score, errors="coerce").astype(float)
    yellow, lime, green = bounds
    colors = np.select(
        [score.isna(), score < yellow, score < lime, score < green],
        ["", "red", "yellow", "lime"],
        default="green",
    )
    return pd.Series(colors, index=score.index, name="health_color")


def quadrant_totals(quadrants: pd.DataFrame) -> dict:
    """``{quadrant: {"accounts": int, "arr": float}}`` with all five names."""
    out = {}
    for name in QUADRANTS:
        rows = quadrants[quadrants["quadrant"] == name]
        out[name] = {"accounts": int(len(rows)), "arr": float(rows["arr"].sum())}
    return out


def add_movement(current: pd.DataFrame, previous: pd.Series | None) -> pd.DataFrame:
    """Add ``previous_quadrant`` and ``moved`` to a quadrant table.

    ``previous`` maps account_id to the quadrant at the previous period's
    as-of date (from the data, or the previous run's quadrants.csv). Accounts
    it does not name get an empty previous quadrant and ``moved`` False.
    """
    out = current.copy()
    if previous is None:
        previous = pd.Series(dtype=object)
    prev = out["account_id"].map(previous).fillna("").astype(str)
    out["previous_quadrant"] = prev
    out["moved"] = (prev != "") & (prev != out["quadrant"])
    return out
