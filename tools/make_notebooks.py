"""Writes notebooks/*.ipynb (thin: parameters, calls into vga, prose). Run it after
changing the series; the notebooks are committed without outputs.

    .venv/bin/python tools/make_notebooks.py
"""
import nbformat as nbf
from pathlib import Path

PARAMS = '''data_dir: str = "../data/sample"  # data folder written to the data contract
period: str = "2026Q3"  # 2026Q3 or 2026 (annual) or an as-of date like 2026-09-30
config: str = ""  # path to vga.toml (empty: the data folder vga.toml if present)
run_dir: str = ""  # run folder written by vga run (empty: show results and write nothing)
reports_dir: str = ""  # reports folder holding the previous period run (empty: none)'''

OPEN = '''%matplotlib inline
from IPython.display import display
import matplotlib.pyplot as plt

from vga import analysis, plots, report
from vga.runner import open_run

ctx = open_run(data_dir, period, config, run_dir, reports_dir)
data, p, settings = ctx.dataset, ctx.period, ctx.config["analysis"]'''


def nb(cells):
    book = nbf.v4.new_notebook()
    book.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    out = []
    for kind, src, *tags in cells:
        c = nbf.v4.new_markdown_cell(src) if kind == "md" else nbf.v4.new_code_cell(src)
        if tags:
            c.metadata["tags"] = tags[0]
        out.append(c)
    book.cells = out
    return book


books = {}
books["02_data_gathering"] = nb([
    ("md", "# Step 2 · Data gathering\n\nWhat was read, what was accepted, and what was set aside with its reason. "
           "Nothing handed in is dropped silently: every quarantined row is in the run's `quarantine/` folder "
           "with its source row number and reason, and every blanked cell is listed beside it."),
    ("code", PARAMS, ["parameters"]),
    ("code", OPEN),
    ("md", "## Sources found\n\nRows read = rows accepted + rows quarantined, for every table."),
    ("code", "display(report.table(analysis.sources_table(data)))\n"
             "plots.data_quality_bars(data.data_quality())\nplt.show()"),
    ("md", "## Why rows were set aside\n\nEach distinct reason, how often it occurred, and the first row numbers "
           "(the header is not counted; for a folder of Parquet files, `file:row`)."),
    ("code", "reasons = data.reasons()\n"
             "display(report.table(reasons) if len(reasons) else report.note('No row was quarantined and no cell blanked.'))"),
    ("md", "## Tying product events to accounts\n\nEvents without an `account_id` are resolved through `users`, "
           "then through the e-mail domain when exactly one account has it. Unresolved events are quarantined."),
    ("code", "resolution = analysis.identity_resolution(data)\n"
             "if resolution is None:\n"
             "    display(report.note('No usage_events table was given: usage comes from accounts.usage_score.', 'skip'))\n"
             "else:\n"
             "    display(report.kpis([\n"
             "        ('resolution rate', report.pct(resolution['resolution_rate'], 2), 'events tied to an account'),\n"
             "        ('through users', f\"{resolution['resolved_through_users']:,}\", 'events resolved via users'),\n"
             "        ('through e-mail domain', f\"{resolution['resolved_through_email_domain']:,}\", 'events resolved via domain'),\n"
             "        ('unresolved', f\"{resolution['unresolved_quarantined']:,}\", 'events quarantined'),\n"
             "    ]))"),
    ("md", "## Tables not given\n\nEvery table but `accounts` is optional; the analyses that need a missing table say so."),
    ("code", "missing = analysis.missing_tables(data)\n"
             "display(report.table(missing) if len(missing) else report.note('Every table of the data contract was given.'))"),
])

books["05_pattern_slicing"] = nb([
    ("md", "# Step 5 · Pattern slicing\n\nWhich segments, regions, CSMs or partners lose customers? For every "
           "slicing dimension and value with enough accounts, the slice's logo churn over the retention window is "
           "compared with the rest of the cohort by Fisher's exact test. Because many slices are tested at once, "
           "p-values are adjusted by Benjamini-Hochberg; a slice is **flagged** when its adjusted value (q) is "
           "below alpha, whether it churns more or less than the rest. Slices smaller than the minimum are listed "
           "but never tested, so a handful of accounts cannot raise an alarm."),
    ("code", PARAMS, ["parameters"]),
    ("code", OPEN),
    ("code", "slices = analysis.slices(data, p)\n"
             "if slices is None:\n"
             "    display(report.note('No renewals table was given: churn over the window is unknown, so slices cannot be compared.', 'skip'))\n"
             "else:\n"
             "    ctx.save_csv('slices.csv', slices)\n"
             "    flagged = slices[slices['flagged']]\n"
             "    display(report.kpis([\n"
             "        ('slices tested', str(int(slices['tested'].sum())), f\"at least {settings['min_accounts']} cohort accounts\"),\n"
             "        ('slices flagged', str(len(flagged)), f\"q below {settings['alpha']}\"),\n"
             "        ('listed, not tested', str(int((~slices['tested']).sum())), 'too few accounts to judge'),\n"
             "    ]))"),
    ("md", "## Flagged slices"),
    ("code", "if slices is not None:\n"
             "    cols = ['dimension', 'value', 'accounts', 'churned', 'churn_rate', 'rest_churn_rate', 'p_value', 'q_value']\n"
             "    fmt = {'churn_rate': report.pct, 'rest_churn_rate': report.pct, 'p_value': '{:.2g}'.format, 'q_value': '{:.2g}'.format}\n"
             "    display(report.table(flagged[cols], fmt) if len(flagged) else report.note('No slice differs from the rest after adjustment.'))"),
    ("md", "## Churn by slice"),
    ("code", "if slices is not None and len(slices):\n"
             "    overall = slices['churned'].iloc[0] + slices['rest_churned'].iloc[0]\n"
             "    cohort = slices['accounts'].iloc[0] + slices['rest_accounts'].iloc[0]\n"
             "    plots.slice_churn_bars(slices, overall / cohort)\n"
             "    plt.show()"),
    ("md", "## Slices too small to test\n\nListed so that nobody wonders where they went; their churn rates rest on "
           "too few accounts to tell signal from chance."),
    ("code", "if slices is not None:\n"
             "    small = slices[~slices['tested']][['dimension', 'value', 'accounts', 'churned', 'churn_rate']]\n"
             "    display(report.table(small, {'churn_rate': report.pct}) if len(small) else report.note('Every slice was large enough to test.'))"),
])

books["07_quadrant_view"] = nb([
    ("md", "# Step 7 · The Usage-Health quadrant\n\nEvery active account placed by how much it uses the product "
           "(usage score) and how healthy the relationship is (health score), both 0-100. The quadrant says what "
           "to do: **Champions** (protect), **Frustrated Power Users** (heavy use yet unhappy: fix what hurts), "
           "**Relationship-Dependent** (like us, use little: drive adoption) and **Churn Risk** (intervene). "
           "Accounts missing a score are **Unscored**: shown and counted, never dropped."),
    ("code", PARAMS, ["parameters"]),
    ("code", OPEN),
    ("code", "quadrants = analysis.quadrant_table(data, p, ctx.previous_run_quadrants())\n"
             "ctx.save_csv('quadrants.csv', quadrants)\n"
             "totals = quadrants.groupby('quadrant')['arr'].agg(['size', 'sum'])\n"
             "display(report.kpis([\n"
             "    (name, f\"{int(totals['size'].get(name, 0))}\", f\"accounts, ARR {report.money(totals['sum'].get(name, 0))}\")\n"
             "    for name in ['Champions', 'Frustrated Power Users', 'Relationship-Dependent', 'Churn Risk', 'Unscored']\n"
             "]))"),
    ("code", "plots.quadrant_scatter(quadrants, usage_threshold=settings['usage_threshold'], health_threshold=settings['health_threshold'])\n"
             "plt.show()\nplots.quadrant_arr_bars(quadrants)\nplt.show()"),
    ("md", "## Frustrated Power Users by ARR\n\nThey depend on the product and are unhappy: the cheapest save."),
    ("code", "names = analysis.account_names(data)\n"
             "fpu = quadrants[quadrants['quadrant'] == 'Frustrated Power Users'].sort_values('arr', ascending=False)\n"
             "cols = ['account_id', 'account_name', 'arr', 'usage_score', 'health_score', 'health_color', 'previous_quadrant']\n"
             "fmt = {'arr': report.money, 'usage_score': '{:.0f}'.format, 'health_score': '{:.0f}'.format}\n"
             "display(report.table(fpu.assign(account_name=fpu['account_id'].map(names))[cols], fmt, max_rows=15)\n"
             "        if len(fpu) else report.note('No account is a Frustrated Power User.'))"),
    ("md", "## Where the scores come from\n\nUsage comes from product events when they are given; health from the "
           "CS team's own scores, else the documented composite of surveys, tickets and touchpoints (a signal older "
           "than its maximum age is left out and its weight spread over the others)."),
    ("code", "display(report.table(analysis.score_sources(quadrants)))\n"
             "if 'health_signals_stale' in quadrants.columns:\n"
             "    stale = quadrants[(quadrants['health_source'] == 'composite') & (quadrants['health_signals_stale'] != '')]\n"
             "    if len(stale):\n"
             "        display(report.note(f\"{len(stale)} accounts scored by the composite lack at least one signal (stale or absent); their other signals carry its weight.\", 'warn'))"),
    ("md", "## Movement since the previous period"),
    ("code", "moved = quadrants[quadrants['moved']]\n"
             "if (quadrants['previous_quadrant'] == '').all():\n"
             "    display(report.note('No previous quadrant: the data has no history and no previous run was found.', 'skip'))\n"
             "else:\n"
             "    flows = moved.groupby(['previous_quadrant', 'quadrant']).agg(accounts=('account_id', 'size'), arr=('arr', 'sum')).reset_index()\n"
             "    display(report.note(f\"{len(moved)} of {len(quadrants)} active accounts changed quadrant since {p.previous_label}.\"))\n"
             "    display(report.table(flows.sort_values('arr', ascending=False), {'arr': report.money}))"),
    ("md", "## Why did they move?\n\nFor each account that changed quadrant, the score changes and the parts that "
           "moved them most (usage parts in points of usage score; health parts in their own 0-100 points)."),
    ("code", "if 'explanation' in quadrants.columns and len(moved):\n"
             "    why = moved.assign(account_name=moved['account_id'].map(names)).sort_values('arr', ascending=False)\n"
             "    display(report.table(why[['account_id', 'account_name', 'arr', 'explanation']], {'arr': report.money}, max_rows=20))\n"
             "    colour = quadrants[(quadrants['explanation'] != '') & ~quadrants['moved']]\n"
             "    display(report.note(f\"A further {len(colour)} accounts kept their quadrant but changed health colour; their explanations are in results/quadrants.csv.\"))"),
    ("md", "## Product usage over time"),
    ("code", "monthly = analysis.usage_by_month(data, p.as_of)\n"
             "if monthly is None:\n"
             "    display(report.note('No usage events: usage over time cannot be shown.', 'skip'))\n"
             "else:\n"
             "    plots.usage_trend(monthly)\n"
             "    plt.tight_layout()\n"
             "    plt.show()\n"
             "steps = analysis.workflow_abandonment(data, p.as_of)\n"
             "if steps is not None and len(steps):\n"
             "    display(report.note('Where abandoned workflow runs stop:'))\n"
             "    display(report.table(steps, {'share': report.pct}))"),
    ("code", "unscored = quadrants[quadrants['quadrant'] == 'Unscored']\n"
             "if len(unscored):\n"
             "    display(report.note(f\"{len(unscored)} active accounts (ARR {report.money(unscored['arr'].sum())}) lack a usage or health score.\", 'warn'))"),
])

books["11_executive_summary"] = nb([
    ("md", "# Executive summary\n\nThe headline figures of this period's value gap analysis. Every number follows "
           "the metric definitions in the README; rates are over the retention window, the 12 months ending on "
           "the as-of date, for the accounts that were customers at its start (the cohort)."),
    ("code", PARAMS, ["parameters"]),
    ("code", OPEN),
    ("code", "quadrants = ctx.quadrants()  # written by the quadrant step; computed when run on its own\n"
             "summary = analysis.summary(data, p, quadrants)\n"
             "ctx.save_json('summary.json', summary)\n"
             "display(report.kpis([\n"
             "    ('Net revenue retention', report.pct(summary['nrr']), 'ARR kept and grown from the cohort'),\n"
             "    ('Gross revenue retention', report.pct(summary['grr']), 'ARR kept, ignoring growth'),\n"
             "    ('Logo churn', report.pct(summary['logo_churn_rate']), f\"of {summary['cohort_accounts']:,} cohort accounts\"),\n"
             "    ('ARR churned', report.money(summary['arr_churned']), 'from accounts that left'),\n"
             "    ('ARR contracted', report.money(summary['arr_contracted']), 'from accounts that shrank'),\n"
             "    ('ARR expanded', report.money(summary['arr_expanded']), 'from accounts that grew'),\n"
             "]))\n"
             "for reason in summary['null_reasons'].values():\n"
             "    display(report.note(f'Retention figures are not shown: {reason}.', 'warn'))"),
    ("md", "## Where the customer base stands\n\nActive accounts by Usage-Health quadrant, with the ARR each holds."),
    ("code", "rows = [{'quadrant': k, 'accounts': v['accounts'], 'ARR': v['arr'], 'what it means': report.QUADRANT_TEXT[k]}\n"
             "        for k, v in summary['quadrants'].items()]\n"
             "import pandas as pd\n"
             "display(report.table(pd.DataFrame(rows), {'ARR': report.money}))\n"
             "plots.quadrant_arr_bars(quadrants)\nplt.show()"),
    ("md", "## Where customers are lost\n\nSlices whose churn differs from the rest of the cohort after adjusting "
           "for the number of slices tested (details in Pattern slicing)."),
    ("code", "slices = analysis.slices(data, p)\n"
             "if slices is None:\n"
             "    display(report.note('No renewals table was given: churn by slice cannot be computed.', 'skip'))\n"
             "else:\n"
             "    flagged = slices[slices['flagged']]\n"
             "    lines = [f\"{r.dimension} = {r.value}: churn {report.pct(r.churn_rate)} vs {report.pct(r.rest_churn_rate)} for the rest ({r.accounts} accounts)\"\n"
             "             for r in flagged.itertuples()]\n"
             "    display(report.bullet_list(lines) if lines else report.note('No slice differs from the rest after adjustment.'))"),
    ("md", "## Can these numbers be trusted?\n\nWhat went in, and what was set aside (details in Data gathering)."),
    ("code", "quality = summary['data_quality']\n"
             "read = sum(q['rows_read'] for q in quality.values())\n"
             "held = sum(q['rows_quarantined'] for q in quality.values())\n"
             "blank = sum(q['cells_blanked'] for q in quality.values())\n"
             "display(report.note(f\"{len(quality)} tables, {read:,} rows read; {held:,} rows quarantined and {blank:,} cells blanked, each with its reason in the run's quarantine folder.\"))"),
])

out = Path(__file__).resolve().parents[1] / "notebooks"
for name, book in books.items():
    nbf.validate(book)
    nbf.write(book, out / f"{name}.ipynb")
print("written", list(books))
