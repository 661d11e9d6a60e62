"""Step 1 · Programme set-up: who sponsors the VGA, who works on it, and
whether its workstreams are on time."""

from __future__ import annotations

import pandas as pd

from . import View
from ..outputs import PROGRAMME_JSON, WORKSTREAMS_CSV
from . import Chapter, plots
from .blocks import not_shown, bullets, figure, finding, kpis, note, stack, table

CHAPTER = Chapter(number=1, title="Programme set-up", notebook="01_programme_setup", node="programme_setup")

HOW_TO = ("No programme is configured. Add a [programme] section to vga.toml: sponsor = \"...\", "
          "task_force = [\"...\"], and one [[programme.workstreams]] per workstream with name, owner, start, "
          "due (ISO dates) and status (not started, on track, at risk, late or done).")
STATUS_COLORS = {"done": "#2e7d32", "on track": "#1565c0", "at risk": "#ef6c00", "late": "#c62828",
                 "not started": "#9e9e9e"}


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
    """Each workstream from start to due, coloured by status."""
    streams = view[WORKSTREAMS_CSV]
    if streams is None or not len(streams):
        return not_shown("no workstreams are configured")
    fig, ax = plots.new_figure(8, max(2.0, 0.45 * len(streams) + 1))
    starts = streams["start"].fillna(streams["due"])
    ax.barh(streams["name"], (streams["due"] - starts).dt.days.clip(lower=1), left=starts,
            color=[STATUS_COLORS[s] for s in streams["status"]])
    ax.axvline(pd.Timestamp(view[PROGRAMME_JSON]["as_of"]), color="#333", ls="--", lw=1)
    ax.invert_yaxis()
    ax.set_title("Workstreams: start to due date (dashed: the as-of date)")
    ax.tick_params(axis="x", rotation=30, labelsize=8)
    return figure(fig, f"Timeline of {len(streams)} workstreams coloured by status, with the as-of date marked",
                  "Green done, blue on track, orange at risk, red late, grey not started.")
