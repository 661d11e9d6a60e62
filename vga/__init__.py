"""vga: customer value gap analysis for B2B SaaS.

The package holds all logic; the notebooks in ``notebooks/`` only present.
A run flows exports -> ``load`` -> ``Inputs`` -> ``nodes`` (run once each by
``run.pipeline``) -> ``results/`` -> the chapters' notebooks (``notebook``,
``present``) -> ``report.html``; see ARCHITECTURE.md. The packages, bottom
to top:

- foundation modules: ``contract`` (the input data contract), ``config``
  (``vga.toml``), ``periods``, ``inputs`` (what nodes compute from),
  ``engine`` (every connection: DuckDB, a warehouse, Spark), ``stats``
  (tests, corrections, intervals), ``words`` (names in the reader's words),
  ``errors``, ``privacy``, ``spreadsheet``, ``sample`` (data with planted effects);
- ``load/``: every input: reading, parsing, the contract's rules, quarantine;
- ``analysis/``: the measures (retention, usage, scores, quadrant, slicing,
  decisions, survival, models, money at risk...): frames in, frames out;
- ``nodes/``: every computation of a run, declared with what it needs and makes;
- ``present/``: the report's chapters: tables, figures and findings;
- ``run/``: a period's run: pipeline, kernels, report, period folder, manifest;
- ``notebook`` (what a notebook opens) and ``cli`` (the ``vga`` command).
"""

__version__ = "0.1.0"
