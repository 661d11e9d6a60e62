"""vga: customer value gap analysis for B2B SaaS.

The package holds all logic; the notebook series (shipped inside it as
``vga/notebooks``) only presents. How a run is built, and which layer each
module belongs to, is drawn once, in ARCHITECTURE.md (the docs site's "How a
run is built").
"""

__version__ = "0.1.0"


import sys as _sys

# jsonschema checks the "iri" format with rfc3987-syntax when it is installed
# (jupyter's packages bring it), and that package compiles an Earley grammar
# when imported: 3 s of CPU in every process that imports nbformat (each `vga`
# command, each test worker), for a format no notebook schema uses. Marked as
# absent, jsonschema goes without that one check (its import of it is
# guarded). A process that imported it before vga keeps it.
_sys.modules.setdefault("rfc3987_syntax", None)
del _sys
