"""vga: customer value gap analysis for B2B SaaS.

The package holds all logic; the notebook series (shipped inside it as
``vga/notebooks``) only presents. How a run is built, and which layer each
module belongs to, is drawn once, in ARCHITECTURE.md (the docs site's "How a
run is built").
"""

__version__ = "0.1.0"

