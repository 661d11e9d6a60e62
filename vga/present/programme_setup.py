"""Step 1 · Programme set-up: who sponsors the VGA, who works on it, and
whether its workstreams are on time."""

from __future__ import annotations

import textwrap

import matplotlib.dates as mdates
import pandas as pd

from . import View
from ..outputs import PROGRAMME_JSON, WORKSTREAMS_CSV
from . import Chapter, plots
from .. import words
from .blocks import not_shown, bullets, figure, finding, kpis, note, stack, table

CHAPTER = Chapter(number=1, title="Programme set-up", notebook="01_programme_setup", node="programme_setup", place=1, appendix=True)

HOW_TO = ("No programme is configured. Add a [programme] section to vga.toml: sponsor = \"...\", "
          "task_force = [\"...\"], and one [[programme.workstreams]] per workstream with name, owner, start, "
          "due (ISO dates) and status (not started, on track, at risk, late or done).")
STATUS_COLORS = plots.WORKSTREAM_COLORS


def team(view: View):
    """Sponsor and task force, or how to set them up."""
    facts = view[PROGRAMME_JSON]
    if not facts["configured"]:
        return note(HOW_TO, "skip")
    parts = [kpis([("sponsor", facts["sponsor"] or "not named", "owns the programme")])]
    if facts["task_force"]:
        parts.append(bullets(facts["task_force"]))
    return stack(*parts)


def status(view: View):
    """Workstreams by due date, with a sentence on what is late."""
    streams = view[WORKSTREAMS_CSV]
    if streams is None:
        return note("No workstreams are configured: add one [[programme.workstreams]] per workstream "
                    "(see above).", "skip")
    late = streams[streams["late"]]
    shown = streams.assign(start=streams["start"].dt.strftime("%Y-%m-%d").fillna(""),
                           due=streams["due"].dt.strftime("%Y-%m-%d"))
    as_of = view[PROGRAMME_JSON]["as_of"]
    if len(late):
        worst = late.sort_values("days_to_due").iloc[0]
        sentence = (f"{len(late)} of {len(streams)} workstreams are past their due date as of {as_of}; "
                    f"the furthest behind is {worst['name']} ({worst['owner']}), due {-worst['days_to_due']} days ago.")
    else:
        done = int((streams["status"] == "done").sum())
        sentence = f"No workstream is past its due date as of {as_of}; {done} of {len(streams)} are done."
    return stack(finding(sentence), table(shown.drop(columns=["late"]), names={"days_to_due": "days to due"}))


def timeline(view: View):
    """Each workstream from start to due, coloured by status and named so;
    the title says what is late."""
    streams = view[WORKSTREAMS_CSV]
    if streams is None or not len(streams):
        return not_shown("no workstreams are configured")
    as_of = pd.Timestamp(view[PROGRAMME_JSON]["as_of"])
    fig, ax = plots.new_figure(plots.WIDTH, max(2.2, 0.5 * len(streams) + 1.4))
    starts = streams["start"].fillna(streams["due"])
    names = [textwrap.fill(str(n), 16) for n in streams["name"]]
    ax.barh(names, (streams["due"] - starts).dt.days.clip(lower=1), left=starts,
            color=[STATUS_COLORS.get(s, plots.GREY) for s in streams["status"]], height=0.6)
    for y, (due, status) in enumerate(zip(streams["due"], streams["status"])):
        ax.text(due, y, f" {status}", va="center", ha="left")
    ax.axvline(as_of, color=plots.INK, ls="--", lw=1)
    ax.text(as_of, -0.75, f"as of {as_of:%Y-%m-%d} ", ha="right", va="bottom", color=plots.INK)
    ax.set_ylim(len(streams) - 0.5, -1.0)
    ax.set_xlim(min(starts.min(), as_of) - pd.Timedelta(days=7), max(streams["due"].max(), as_of) + pd.Timedelta(days=45))
    ax.xaxis.set_major_locator(mdates.AutoDateLocator(maxticks=4))
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(ax.xaxis.get_major_locator()))
    plots.say(ax, timeline_message(streams, as_of))
    return figure(fig, f"Timeline of {len(streams)} workstreams coloured by status, with the as-of date marked",
                  "Each bar runs from a workstream's start to its due date and is named by its status; the dashed "
                  "line is the as-of date.")


def timeline_message(streams: pd.DataFrame, as_of) -> str:
    """'1 of 3 workstreams is late: Onboarding fix, due 15 days ago'."""
    late = streams[streams["late"].astype(bool)]
    n = len(streams)
    if len(late):
        behind = plots.leaders(dict(zip(late["name"], -late["days_to_due"].astype(int))), int)
        days = -int(late["days_to_due"].min())
        return (f"{len(late)} of {words.plural(n, 'workstream')} {'is' if len(late) == 1 else 'are'} past due; "
                f"{plots.and_join(behind)} {'is' if len(behind) == 1 else 'are'} furthest behind, due "
                f"{words.plural(days, 'day')} ago")
    done = int((streams["status"] == "done").sum())
    return f"No workstream is past its due date on {pd.Timestamp(as_of):%Y-%m-%d}; {done} of {n} are done"
