"""``vga init DIR``: an analyst's working folder.

It holds a commented ``vga.toml`` (every setting with its default, from
``vga/templates``), a ``notebooks/`` copy of the series to extend (a run
started in the folder uses it: :func:`vga.run.series.find_series`), empty
``data/`` and ``reports/`` folders, and a short README.
"""

from __future__ import annotations

import importlib.resources
import shutil
from pathlib import Path

from ..errors import UsageError
from ..present import chapters
from .series import package_notebooks

#: What ``vga init`` writes, relative to the folder (besides the notebooks).
FILES = ("vga.toml", "README.md")


def template(name: str) -> str:
    """The text of ``vga/templates/<name>``."""
    return (importlib.resources.files("vga") / "templates" / name).read_text(encoding="utf-8")


def init_folder(folder: str | Path, *, force: bool = False) -> list[Path]:
    """Write a working folder at ``folder``; return the files written.

    Refuses (:class:`UsageError`) a folder that exists and is not empty,
    unless ``force``, which writes the files over those of the same name
    and leaves everything else in place (the data and reports stay)."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{folder} is a file; pass a folder to create")
    if folder.is_dir() and any(folder.iterdir()) and not force:
        raise UsageError(f"{folder} is not empty; pass an empty or new folder, or --force to write the "
                         f"working files ({', '.join(FILES)}, notebooks/) over those there")
    written = []
    for sub in ("notebooks", "data", "reports"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    for name in FILES:
        (folder / name).write_text(template(name), encoding="utf-8")
        written.append(folder / name)
    shipped = package_notebooks()
    for chapter in chapters().values():
        target = folder / "notebooks" / f"{chapter.notebook}.ipynb"
        shutil.copyfile(shipped / f"{chapter.notebook}.ipynb", target)
        written.append(target)
    return written
