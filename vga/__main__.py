import os
import sys

# ``python -m vga`` puts the working folder first on the import path: run from
# inside a data folder, a file there named like a module (pandas.py, csv.py)
# would be imported instead of the real one. A data folder is data, not code.
if sys.path and sys.path[0] in ("", os.getcwd()):
    del sys.path[0]

from vga.cli import main  # noqa: E402 (after the import path is made safe)

sys.exit(main())
