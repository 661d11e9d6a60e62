"""Figures for the report. Each draws the frame it is given on an Axes and
returns it; none calls ``plt.show()`` or reads files.

Names from the data (a segment, a CSM, a feature) are text, never
mathtext: with ``text.parse_math`` off, a ``$`` in a name is drawn as a
dollar sign, and a name such as ``Mid$\\fakecmd$Market`` cannot stop a chart.
An analyst who wants mathtext in a chart of their own passes
``parse_math=True`` to that text.
"""

from __future__ import annotations

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from ..analysis.quadrant import QUADRANTS

matplotlib.rcParams["text.parse_math"] = False

QUADRANT_COLORS = {
    "Champions": "#2e7d32",
    "Frustrated Power Users": "#ef6c00",
    "Relationship-Dependent": "#1565c0",
    "Churn Risk": "#c62828",
    "Unscored": "#9e9e9e",
}


def _axes(ax, size=(7, 5)):
    if ax is None:
        _, ax = plt.subplots(figsize=size)
    return ax


def new_figure(width: float = 7, height: float = 5, columns: int = 1):
    """A figure outside pyplot's state (nothing is shown by accident) and its axes."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height))
    axes = fig.subplots(1, columns)
    return fig, axes


def plain_numbers(ax, which: str = "x", digits: int = 0):
    """Tick labels with thousands separators, never scientific notation (1e7)."""
    from matplotlib.ticker import FuncFormatter

    fmt = FuncFormatter(lambda v, _: f"{v:,.{digits}f}")
    for axis in ("x", "y") if which == "both" else (which,):
        getattr(ax, f"{axis}axis").set_major_formatter(fmt)
    return ax


def money_axis(ax, which: str = "x"):
    """Tick labels as compact amounts (5M, 250k): long amounts collide on an axis."""
    from matplotlib.ticker import FuncFormatter

    def compact(v, _):
        for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
            if abs(v) >= size:
                return f"{v / size:,.{0 if v % size == 0 else 1}f}{suffix}"
        return f"{v:,.0f}"

    getattr(ax, f"{which}axis").set_major_formatter(FuncFormatter(compact))
    return ax


def signal_leads(comparison: pd.DataFrame, axes, signals: dict[str, str]):
    """Mean of each signal 90, 60 and 30 days before the decision, churned
    against retained decisions, with the 95% interval of the difference
    drawn around the churned mean. ``comparison``: churn_signals.csv."""
    for ax, (signal, label) in zip(np.atleast_1d(axes), signals.items()):
        rows = comparison[comparison["signal"] == signal].sort_values("lead_days", ascending=False)
        if rows.empty:
            ax.set_axis_off()
            continue
        x = -rows["lead_days"].to_numpy()
        ax.plot(x, rows["second_value"], color="#2e7d32", marker="o", label="renewed or expanded")
        low = rows["second_value"] + rows["ci_lower"]
        high = rows["second_value"] + rows["ci_upper"]
        ax.plot(x, rows["first_value"], color="#c62828", marker="s", label="churned")
        ax.fill_between(x, low.astype(float), high.astype(float), color="#c62828", alpha=0.12,
                        label="95% interval, churned")
        ax.set_xticks(x, [f"{d} days" for d in rows["lead_days"]])
        ax.set(title=label, xlabel="before the decision", ylabel="mean")
        plain_numbers(ax, "y", 1 if rows["first_value"].abs().max() < 100 else 0)
    np.atleast_1d(axes)[0].legend(loc="best", fontsize=8)
    return axes


def comparison_bars(table: pd.DataFrame, labels: pd.Series, ax, xlabel: str, title: str):
    """Differences with their 95% intervals as horizontal bars (flagged
    rows dark, others grey); ``labels`` names each row for the reader."""
    y = np.arange(len(table))
    colors = np.where(table["flagged"].astype(bool), "#1565c0", "#b0bec5")
    ax.barh(y, table["difference"], color=colors)
    err = np.vstack([table["difference"] - table["ci_lower"], table["ci_upper"] - table["difference"]])
    ax.errorbar(table["difference"], y, xerr=np.nan_to_num(err.astype(float)), fmt="none", ecolor="#333", lw=1)
    ax.axvline(0, color="#333", lw=1)
    ax.set_yticks(y, list(labels))
    ax.invert_yaxis()
    ax.set(xlabel=xlabel, title=title)
    ax.tick_params(axis="y", labelsize=8)
    return ax


def quadrant_scatter(quadrants: pd.DataFrame, *, usage_threshold=50.0, health_threshold=50.0, ax=None):
    """Usage (x) against health (y), one dot per active account sized by ARR."""
    ax = _axes(ax)
    scored = quadrants.dropna(subset=["usage_score", "health_score"])
    if len(scored):
        size = 15 + 185 * (scored["arr"] / scored["arr"].max()).fillna(0)
        sns.scatterplot(
            data=scored, x="usage_score", y="health_score", hue="quadrant", size=size, sizes=(15, 200),
            palette=QUADRANT_COLORS, hue_order=[q for q in QUADRANTS if q in set(scored["quadrant"])],
            alpha=0.6, linewidth=0, ax=ax, legend="brief",
        )
        handles, labels = ax.get_legend_handles_labels()
        keep = [i for i, lab in enumerate(labels) if lab in QUADRANT_COLORS]
        ax.legend([handles[i] for i in keep], [labels[i] for i in keep], loc="lower left", fontsize=8, frameon=True)
    ax.axvline(usage_threshold, color="#555", lw=1, ls="--")
    ax.axhline(health_threshold, color="#555", lw=1, ls="--")
    ax.set(xlim=(-2, 102), ylim=(-2, 102), xlabel="Usage score (0-100)", ylabel="Health score (0-100)")
    ax.set_title("Usage-Health quadrant: active accounts, dot size = ARR")
    return ax


def quadrant_arr_bars(quadrants: pd.DataFrame, ax=None):
    """ARR per quadrant (horizontal bars), with account counts."""
    ax = _axes(ax, (7, 3))
    grouped = quadrants.groupby("quadrant")["arr"].agg(["sum", "size"]).reindex(QUADRANTS).fillna(0)
    ax.barh(grouped.index, grouped["sum"], color=[QUADRANT_COLORS[q] for q in grouped.index])
    for y, (total, count) in enumerate(zip(grouped["sum"], grouped["size"])):
        ax.text(total, y, f"  {int(count)} accounts", va="center", fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("ARR at the as-of date")
    ax.set_title("ARR by quadrant")
    money_axis(ax, "x")
    ax.margins(x=0.25)  # room for the account counts beside the bars
    return ax


def slice_churn_bars(slices: pd.DataFrame, overall_churn: float | None = None, ax=None):
    """Churn rate of each tested slice; flagged slices in red."""
    tested = slices[slices["tested"]].copy()
    ax = _axes(ax, (7, max(2.5, 0.28 * len(tested) + 1)))
    if tested.empty:
        ax.text(0.5, 0.5, "No slice large enough to test", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return ax
    tested["label"] = tested["dimension"] + ": " + tested["value"]
    tested = tested.sort_values("churn_rate")
    flagged = tested["known_flagged"] if "known_flagged" in tested.columns else tested["flagged"]
    colors = np.where(flagged.astype(bool), "#c62828", "#90a4ae")
    ax.barh(tested["label"], tested["churn_rate"] * 100, color=colors)
    if overall_churn is not None:
        ax.axvline(overall_churn * 100, color="#333", ls="--", lw=1, label="whole cohort")
        ax.legend(loc="lower right", fontsize=8)
    ax.set_xlabel("Logo churn over the retention window (%)")
    ax.set_title("Churn by slice (red: flagged against the other known values)")
    ax.tick_params(axis="y", labelsize=8)
    return ax


def data_quality_bars(quality: dict, ax=None):
    """Share of rows quarantined per table (log-free, percentages)."""
    ax = _axes(ax, (7, 3))
    names = list(quality)
    share = [100 * q["rows_quarantined"] / q["rows_read"] if q["rows_read"] else 0 for q in quality.values()]
    ax.barh(names, share, color="#ef6c00")
    ax.invert_yaxis()
    ax.set_xlabel("Rows quarantined (% of rows read)")
    ax.set_title("Data quality by table")
    return ax


def usage_trend(trend: pd.DataFrame, axes=None):
    """Accounts with any product use per month, and the median session depth
    and core adoption (``trend``: the quadrant step's usage_trend.csv)."""
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(11, 3.5))
    by_month = trend.set_index("month")
    axes[0].plot(by_month.index, by_month["active_accounts"], color="#1565c0", marker="o", ms=3)
    axes[0].set(title="Accounts with any product use, per month", ylabel="accounts", xlabel="month")
    axes[1].set_xlabel("month")
    plain_numbers(axes[0], "y")
    axes[1].plot(by_month.index, by_month["median_events_per_session"], color="#2e7d32", marker="o", ms=3,
                 label="events per session (median)")
    if by_month["median_core_adoption"].notna().any():
        twin = axes[1].twinx()
        twin.plot(by_month.index, 100 * by_month["median_core_adoption"], color="#ef6c00", marker="s", ms=3,
                  label="core adoption % (median)")
        twin.set_ylabel("core adoption %")
        twin.set_ylim(0, 105)
        lines = axes[1].get_legend_handles_labels(), twin.get_legend_handles_labels()
        axes[1].legend(lines[0][0] + lines[1][0], lines[0][1] + lines[1][1], loc="lower left", fontsize=8)
    axes[1].set(title="Depth and core-feature adoption", ylabel="events per session")
    axes[0].set_ylim(bottom=0)
    axes[1].set_ylim(bottom=0)
    for ax in axes:
        ax.tick_params(axis="x", rotation=45, labelsize=8)
    return axes


def survival_curves(curves: pd.DataFrame, at_risk: dict, dimension: str, ax):
    """Kaplan-Meier curves of one dimension (``survival.csv`` rows), as steps
    from 1 at day 0 with their 95% bands, and the accounts at risk at each
    year written under the axis. ``at_risk``: survival.json's ``at_risk``."""
    palette = sns.color_palette("colorblind", 10)
    groups = list(dict.fromkeys(curves.loc[curves["dimension"] == dimension, "group"]))
    for color, group in zip(palette, groups):
        part = curves[(curves["dimension"] == dimension) & (curves["group"] == group)]
        x = np.concatenate([[0.0], part["time_days"].to_numpy(float)])
        y = np.concatenate([[1.0], part["survival"].to_numpy(float)])
        label = "all accounts" if group == "all" else str(group)
        ax.step(x, y, where="post", color=color, label=label)
        low = np.concatenate([[1.0], part["ci_lower"].to_numpy(float)])
        high = np.concatenate([[1.0], part["ci_upper"].to_numpy(float)])
        ax.fill_between(x, low, high, step="post", color=color, alpha=0.12)
    ax.set(xlabel="days since contract start", ylabel="share of accounts still customers", ylim=(0, 1.02))
    ax.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:.0%}"))
    times = at_risk.get("times") or []
    rows = [r for r in at_risk.get("rows", []) if r["dimension"] == dimension]
    if times:
        ax.set_xticks(times, [f"{t:,}" for t in times])
        ax.set_xlim(0, max(times[-1], float(curves["time_days"].max() if len(curves) else 0)) * 1.02 or 1)
        # The at-risk table under the axis: one line per curve, each count
        # under its tick (x in days, y in axes units below the axis).
        from matplotlib.transforms import blended_transform_factory

        under = blended_transform_factory(ax.transData, ax.transAxes)
        ax.text(0, -0.2, "accounts at risk", transform=ax.transAxes, fontsize=7, weight="bold", ha="right")
        for i, (color, r) in enumerate(zip(palette, rows[:6])):
            y = -0.27 - 0.07 * i
            ax.text(-0.08, y, "all" if r["group"] == "all" else str(r["group"])[:18], transform=ax.transAxes,
                    fontsize=7, ha="right", color=color)
            for t, c in zip(times, r["counts"]):
                ax.text(t, y, f"{c:,}", transform=under, fontsize=7, ha="center", color=color)
    if ax.get_legend_handles_labels()[0]:  # no curve (no account churned): no legend to draw
        ax.legend(loc="lower left", fontsize=8)
    return ax


def ratio_dots(ratio: pd.Series, low: pd.Series, high: pd.Series, labels, q_values: pd.Series, ax, xlabel: str,
               alpha: float = 0.05, dark_color: str = "#c62828"):
    """Ratios (hazard or odds) with their 95% intervals as dots and bars on
    a log axis around 1: dark where q < alpha, grey elsewhere."""
    y = np.arange(len(ratio))
    colors = np.where(q_values.astype(float) < alpha, dark_color, "#90a4ae")
    ax.hlines(y, low, high, colors=colors, lw=2)
    ax.scatter(ratio, y, color=colors, zorder=3)
    ax.axvline(1, color="#333", lw=1)
    ax.set_xscale("log")
    lo, hi = float(low.min()), float(high.max())
    ticks = [t for t in (0.1, 0.25, 0.5, 1, 2, 4, 10, 25) if lo / 1.5 <= t <= hi * 1.5] or [1]
    ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
    ax.xaxis.set_minor_formatter(plt.NullFormatter())
    ax.set_yticks(y, [str(t) for t in labels])
    ax.invert_yaxis()
    ax.tick_params(axis="y", labelsize=8)
    ax.set(xlabel=xlabel)
    return ax


def hazard_ratios(cox: pd.DataFrame, ax, alpha: float = 0.05):
    """Hazard ratios of ``cox.csv`` (with a ``q_value`` column)."""
    return ratio_dots(cox["hazard_ratio"], cox["ci_lower"], cox["ci_upper"], cox["term"], cox["q_value"], ax,
                      "hazard ratio (log scale; above 1: churn sooner)", alpha)


def warning_rates(warnings: pd.DataFrame, ax):
    """Per signal (``early_warning.csv``): the share of churned decisions it
    warned about and the share of retained ones it fired for, with their 95%
    intervals, as paired horizontal bars."""
    rows = warnings.reset_index(drop=True)
    y = np.arange(len(rows))
    for offset, rate, low, high, color, label in (
            (-0.2, "recall", "recall_ci_lower", "recall_ci_upper", "#c62828", "churned decisions warned"),
            (0.2, "false_alarm_rate", "false_alarm_ci_lower", "false_alarm_ci_upper", "#90a4ae",
             "retained decisions it fired for (false alarms)")):
        values = rows[rate].astype(float).fillna(0).to_numpy()
        err = np.vstack([values - rows[low].astype(float).fillna(0).to_numpy(),
                         rows[high].astype(float).fillna(0).to_numpy() - values]).clip(min=0)
        ax.barh(y + offset, values, height=0.38, color=color, xerr=err, error_kw={"lw": 1, "capsize": 2}, label=label)
    ax.set_yticks(y, list(rows["signal_name"]))
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:.0%}"))
    ax.set(xlabel="share of decisions it fired for in the 180 days before")
    ax.legend(loc="lower right", fontsize=7)
    ax.tick_params(axis="y", labelsize=8)
    return ax


def warning_leads(per_decision: pd.DataFrame, signals: dict[str, str], ax):
    """Lead times (days from the first firing to the decision) of each signal
    over the churned decisions it warned about: a box per signal, points on top."""
    churned = per_decision[per_decision["outcome"] == "churned"]
    data = [churned[s].dropna().to_numpy(float) for s in signals]
    y = np.arange(len(data))
    shown = [i for i, d in enumerate(data) if len(d)]
    if shown:
        ax.boxplot([data[i] for i in shown], positions=[y[i] for i in shown], vert=False, widths=0.5,
                   showfliers=False, medianprops={"color": "#c62828"})
    for i, d in enumerate(data):
        jitter = (np.random.default_rng(i).random(len(d)) - 0.5) * 0.3
        ax.scatter(d, y[i] + jitter, s=4, color="#37474f", alpha=0.35)
    ax.set_yticks(y, list(signals.values()))
    ax.set_ylim(len(data) - 0.5, -0.5)
    ax.set_xlim(0, 185)
    ax.set(xlabel="days of warning before the churn decision")
    ax.tick_params(axis="y", labelsize=8)
    return ax


def calibration_plot(bins: list[dict], ax):
    """Predicted against observed rate per bin (``model_validation.json``'s
    ``calibration``), point size by n, with the diagonal of perfect calibration."""
    predicted = np.array([b["predicted"] for b in bins], dtype=float)
    observed = np.array([b["observed"] for b in bins], dtype=float)
    n = np.array([b["n"] for b in bins], dtype=float)
    ax.plot([0, 1], [0, 1], color="#90a4ae", lw=1, ls="--", label="perfect calibration")
    ax.plot(predicted, observed, color="#1565c0", lw=1)
    ax.scatter(predicted, observed, s=20 + 80 * n / max(n.max(), 1), color="#1565c0", zorder=3,
               label="decisions after the cut-off, by predicted band")
    ax.set(xlim=(0, 1), ylim=(0, 1.02), xlabel="predicted probability of renewing",
           ylabel="share that renewed")
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:.0%}"))
    ax.legend(loc="upper left", fontsize=7)
    return ax


def odds_ratios(terms: pd.DataFrame, ax, alpha: float = 0.05):
    """Odds ratios of ``model_terms.csv`` rows."""
    return ratio_dots(terms["odds_ratio"], terms["ci_lower"], terms["ci_upper"], terms["term_name"], terms["q_value"],
                      ax, "odds ratio (log scale; above 1: more likely)", alpha, dark_color="#1565c0")


def adoption_lines(adoption: pd.DataFrame, ax):
    """Mean core-feature adoption 90, 60 and 30 days before the decision per
    outcome (``adoption_by_outcome.csv``, measure ``core_adoption``), with
    95% intervals; small groups drawn dashed, without an interval."""
    colors = {"renewed": "#1565c0", "expanded": "#2e7d32", "downgraded": "#ef6c00", "churned": "#c62828"}
    core = adoption[adoption["measure"] == "core_adoption"]
    for outcome, color in colors.items():
        part = core[core["outcome"] == outcome].sort_values("lead_days", ascending=False)
        if part.empty or part["value"].isna().all():
            continue
        x = part["lead_days"].to_numpy(float)
        small = bool(part["small"].any())
        ax.plot(x, part["value"], marker="o", color=color, ls="--" if small else "-",
                label=outcome + (" (few decisions)" if small else ""))
        if not small:
            ax.fill_between(x, part["ci_lower"].astype(float), part["ci_upper"].astype(float), color=color, alpha=0.12)
    ax.set_xlim(95, 25)
    ax.set_xticks([90, 60, 30])
    from matplotlib.ticker import PercentFormatter

    ax.set(xlabel="days before the renewal decision", ylabel="core features used (share)")
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.legend(fontsize=8)
    return ax


BRIDGE_COLORS = {"start": "#486581", "expanded": "#2e7d32", "contracted": "#ef6c00", "churned": "#c62828",
                 "end": "#102a43", "new": "#2680c2", "total": "#102a43"}


def arr_bridge(bridge: dict, ax, labels: dict | None = None):
    """The ARR bridge as a waterfall: the cohort's ARR a year ago, plus
    expansion, minus contraction and churn, the cohort's ARR now, plus new
    customers, every account's ARR now (:func:`vga.analysis.retention.arr_bridge`).
    Each bar is labelled with its amount."""
    labels = labels or {"start": "a year ago", "expanded": "+ expansion", "contracted": "- contraction",
                        "churned": "- churn", "end": "same customers now", "new": "+ new customers",
                        "total": "all ARR now"}
    steps = [("start", bridge["start"], 0.0), ("expanded", bridge["expanded"], bridge["start"]),
             ("contracted", -bridge["contracted"], bridge["start"] + bridge["expanded"]),
             ("churned", -bridge["churned"], bridge["start"] + bridge["expanded"] - bridge["contracted"]),
             ("end", bridge["end"], 0.0)]
    if bridge.get("new", 0) > 0:
        steps += [("new", bridge["new"], bridge["end"]), ("total", bridge["total"], 0.0)]
    x = np.arange(len(steps))
    for i, (key, value, base) in enumerate(steps):
        bottom, height = (base + value, -value) if value < 0 else (base, value)
        ax.bar(i, height, bottom=bottom, color=BRIDGE_COLORS[key], width=0.65)
        text = _compact(abs(value))
        ax.text(i, bottom + height, ("-" if value < 0 else "+" if key in ("expanded", "new") else "") + text,
                ha="center", va="bottom", fontsize=8)
    ax.set_xticks(x, [labels[k] for k, _, _ in steps], fontsize=8)
    ax.tick_params(axis="x", labelrotation=20)
    money_axis(ax, "y")
    ax.set_ylabel("ARR")
    ax.spines[["top", "right"]].set_visible(False)
    ax.margins(y=0.12)
    return ax


def _compact(v: float) -> str:
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(v) >= size:
            return f"{v / size:,.1f}{suffix}"
    return f"{v:,.0f}"


def retention_trend(trend: pd.DataFrame, ax):
    """NRR, GRR and logo churn over the quarters the data covers (each over
    its own 12 months), as lines with a dot per quarter, in percent."""
    days = pd.to_datetime(trend["as_of"])
    for column, label, color in (("nrr", "NRR", "#102a43"), ("grr", "GRR", "#2680c2"),
                                 ("logo_churn_rate", "logo churn", "#c62828")):
        ax.plot(days, 100 * trend[column].astype(float), marker="o", label=label, color=color)
    ax.set_ylabel("% (each over its 12 months)")
    ax.legend(frameon=False, fontsize=8, ncols=3, loc="upper left", bbox_to_anchor=(0, 1.15))
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_xticks(days, [f"{d.year}Q{(d.month - 1) // 3 + 1}" if d.month in (3, 6, 9, 12) else d.date().isoformat()
                         for d in days], fontsize=8)
    return ax
