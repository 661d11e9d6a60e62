"""Other churn labels an export carries (``[churn_labels]`` in vga.toml).

Exports often say who churned in several ways that disagree: a flag on the
account, churn events, ended subscriptions. The figures follow one rule (ARR
reaching 0 in ``renewals``); each other label is read here, by a DuckDB query
over the data folder's files, so that the report can count it against the
figures instead of hiding the disagreement.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..errors import DataError
from ..limits import limits_of


def label_line(config: dict, label: str) -> str:
    """'vga.toml line 12 ([churn_labels] "label")', for messages."""
    file = config.get("_file")
    where = f'[churn_labels] "{label}"'
    if not file or not Path(file).is_file():
        return f"{where} in the configuration"
    lines = Path(file).read_text(encoding="utf-8").splitlines()
    header = next((i for i, line in enumerate(lines) if line.strip() == "[churn_labels]"), None)
    for i in range((header or 0) + 1, len(lines)):
        if lines[i].lstrip().strip('"\'').startswith(label):
            return f"{Path(file).name} line {i + 1} ({where})"
    return f"{Path(file).name} ({where})"


def read_churn_labels(data_dir: Path, config: dict, account_ids: set[str]) -> pd.DataFrame | None:
    """One row per (label, account_id) the configured queries return, with
    ``known`` saying whether the id is an accepted account; None when no
    label is configured. A query that fails, or returns no ``account_id``
    column, stops the run with a message naming its line in vga.toml."""
    queries = config.get("churn_labels") or {}
    if not queries:
        return None
    from .sandbox import run_query

    frames = []
    for label, query in queries.items():
        # Each query checked and run sandboxed: it reads the data folder and nothing else.
        result = run_query(query, Path(data_dir), label_line(config, label), limits_of(config))
        if "account_id" not in result.columns:
            raise DataError(f"{label_line(config, label)}: the query returns no account_id column "
                            f"(it returns {', '.join(map(str, result.columns)) or 'no columns'})")
        ids = result["account_id"].dropna().astype(str).str.strip()
        ids = ids[ids != ""].drop_duplicates()
        frames.append(pd.DataFrame({"label": str(label), "account_id": ids.to_numpy()}))
    labels = pd.concat(frames, ignore_index=True)
    # A label that names nobody is still a label: the categories keep it.
    labels["label"] = pd.Categorical(labels["label"], categories=[str(k) for k in queries])
    labels["known"] = labels["account_id"].isin(account_ids)
    return labels
