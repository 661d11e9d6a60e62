"""vga: customer value gap analysis for B2B SaaS.

The package holds all logic; the notebooks in ``notebooks/`` only present.
A run flows exports -> ``load`` -> ``inputs`` -> ``steps`` (via ``pipeline``)
-> ``results/`` -> notebooks (``notebook``, ``present``) -> ``report``; see
ARCHITECTURE.md. Modules, one per concern:

- ``contract``: the input data contract (tables, columns, schemas)
- ``config``: ``vga.toml`` (file and column mapping, settings, warehouse URL)
- ``periods``: run periods, as-of dates and windows
- ``load``: every input: reading, parsing, the contract's rules, quarantine
- ``inputs``: what the steps compute from (accepted frames, events, facts)
- ``coverage``: how far the data runs and which figures it supports
- ``retention``: ARR at a date, cohort, NRR, GRR, logo churn
- ``usage``: event aggregation with Ibis (DuckDB by default)
- ``scores``: usage and health scores and their components
- ``quadrant``: the Usage-Health quadrant, health colours, movement
- ``slicing``: pattern slicing with Fisher's exact test and Benjamini-Hochberg
- ``steps``: one computation per VGA step; ``pipeline`` runs them once
- ``notebook`` / ``present`` / ``plots``: what a notebook opens and shows
- ``kernels`` / ``runner`` / ``report``: notebook execution, run folder, HTML report
- ``cli``: the ``vga`` command line; ``sample``: synthetic data with planted effects
"""

__version__ = "0.1.0"
