"""vga: customer value gap analysis for B2B SaaS.

The package holds all logic; the notebooks in ``notebooks/`` only call it.
Modules, one per concern:

- ``periods``: run periods, as-of dates and windows
- ``contract``: the input data contract (tables, columns, schemas)
- ``config``: ``vga.toml`` (file and column mapping, analysis settings)
- ``load``: reading, parsing, validation and quarantine
- ``retention``: ARR at a date, cohort, NRR, GRR, logo churn
- ``usage``: event aggregation with Ibis (DuckDB by default)
- ``scores``: usage and health scores and their components
- ``quadrant``: the Usage-Health quadrant, health colours, movement
- ``slicing``: pattern slicing with Fisher's exact test and Benjamini-Hochberg
- ``sample``: synthetic data with planted effects
- ``plots``: figures for the report
- ``report`` / ``runner``: notebook execution, run folder, HTML report
- ``cli``: the ``vga`` command line
"""

__version__ = "0.1.0"
