"""Where a run finds the notebook series, and the shape every notebook keeps.

The series ships inside the package (``vga/notebooks``, package data found
with :mod:`importlib.resources`), so an installed wheel runs from any folder.
An analyst's working folder made by ``vga init`` holds its own
``notebooks/`` copy: a run started there (or given ``--notebooks``) uses the
folder's copy of each chapter's notebook when present, the package's for the
rest, and says which. Whichever folder a notebook comes from, it must keep the
series' shape (:func:`shape_problems`): one tagged parameters cell of
literals, then only imports from ``vga``, ``view = open_chapter(...)`` and
``show.<block>(...)`` calls, each cell a few lines; logic belongs in the
package, where it is tested.

The analyst extends the series in the working folder (:func:`working_folder`):

- cells tagged ``analyst`` in a chapter's notebook are the analyst's own:
  any code, any import; the shape check passes over them, and the report
  shows their output under the chapter, marked as the analyst's;
- a notebook ``NN_<key>.ipynb`` the package does not have
  (:func:`analyst_chapters`) is a chapter of the analyst's own, placed in
  the report by its number;
- the kernels start in the working folder, with it (and its ``notebooks/``)
  on the import path, so a cell may import a module kept there.

A working folder inside the data folder is never one: notebooks and
modules that come with data are never run. A notebook papermill executed
in place (its ``injected-parameters`` cell, papermill's error cells) keeps
its shape. Cells are numbered as a reader counts them in Jupyter: from the
top, Markdown cells included, the first being cell 1.
"""

from __future__ import annotations

import ast
import importlib.resources
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat

from ..errors import UsageError
from ..present import chapters

#: Code cells a notebook of the series may have, and lines per cell after the parameters.
MAX_CODE_CELLS = 16
MAX_LINES_PER_CELL = 5
#: The parameters every notebook of the series takes (papermill injects them).
PARAMETERS = ("data_dir", "period", "config", "run_dir", "reports_dir")
#: The tag of a cell of the analyst's own, in a chapter of the series.
ANALYST_TAG = "analyst"
#: Cells papermill adds to a notebook it executes (in place, or as a copy): never the analyst's.
PAPERMILL_TAGS = ("injected-parameters", "papermill-error-cell-tag")
#: A chapter notebook's name: two digits, an underscore, a key.
CHAPTER_NAME = re.compile(r"^(\d{2})_([a-z0-9][a-z0-9_]*)\.ipynb$")
#: How to keep code of one's own, said with every refusal of the shape check.
ROUTE = ("to keep code of your own, tag its cell 'analyst' (any code and any import; the report shows its output "
         "under the chapter, marked as yours), or put it in a module in your working folder and call that from an "
         "'analyst' cell; vga check lists every problem at once")


@dataclass(frozen=True)
class AnalystChapter:
    """A chapter of the analyst's own: ``notebooks/NN_<key>.ipynb`` in the
    working folder, not one of the series'. ``title`` is its first Markdown
    heading (else its key in words)."""

    number: int
    key: str
    path: Path
    title: str

    @property
    def notebook(self) -> str:
        return self.path.stem


def package_notebooks() -> Path:
    """The folder of the series shipped with the package."""
    folder = importlib.resources.files("vga") / "notebooks"
    return Path(str(folder))


def _inside(path: Path, folder: Path | None) -> bool:
    if folder is None:
        return False
    try:
        Path(path).resolve().relative_to(Path(folder).resolve())
        return True
    except ValueError:
        return False


def find_series(notebooks: str | Path | None = None, cwd: str | Path | None = None,
                data_dir: str | Path | None = None) -> tuple[dict[str, Path], list[str]]:
    """Each chapter's notebook (stem -> path) for a run, and the stems taken
    from the working folder rather than the package.

    ``notebooks`` is the ``--notebooks`` folder; without it, ``<cwd>/notebooks``
    is used when it holds any of the series' notebooks (a ``vga init``
    folder). A chapter whose notebook the folder lacks comes from the
    package. Notebooks are code: a folder inside ``data_dir`` is never used
    (a data folder is data, whoever sent it): ``./notebooks`` there is
    passed over (:func:`passed_over` says so), and ``--notebooks`` there is
    refused. Raises :class:`UsageError` when ``--notebooks`` names no folder
    or one without any of the series' notebooks, and for a notebook that
    breaks the series' shape (every problem, numbered as Jupyter numbers
    cells)."""
    shipped = package_notebooks()
    stems = [c.notebook for c in chapters().values()]
    series = {stem: shipped / f"{stem}.ipynb" for stem in stems}
    if notebooks is not None:
        folder = Path(notebooks)
        if not folder.is_dir():
            raise UsageError(f"--notebooks {folder}: no such folder; pass a folder made by vga init (its notebooks/)")
        if _inside(folder, data_dir):
            raise UsageError(f"--notebooks {folder} lies inside the data folder {data_dir}: notebooks that come with "
                             "data are never run; copy the ones you have read and trust to a folder of your own "
                             "(vga init DIR makes one) and pass that")
        if not any((folder / f"{stem}.ipynb").is_file() for stem in stems):
            raise UsageError(f"--notebooks {folder} holds none of the series' notebooks "
                             f"({stems[0]}.ipynb ... {stems[-1]}.ipynb); vga init DIR writes a copy to start from")
    else:
        folder = Path(cwd or Path.cwd()) / "notebooks"
        if not folder.is_dir() or folder.resolve() == shipped.resolve() or _inside(folder, data_dir):
            return series, []
    local = [stem for stem in stems if (folder / f"{stem}.ipynb").is_file()]
    for stem in local:
        series[stem] = folder / f"{stem}.ipynb"
    refused = [f"{series[stem]} does not keep the series' shape: " + "; ".join(problems)
               for stem in local if (problems := shape_problems(series[stem]))]
    refused += [f"{chapter.path} (a chapter of your own) cannot run: " + "; ".join(problems)
                for chapter in analyst_chapters(folder) if (problems := chapter_problems(chapter.path))]
    if refused:
        raise UsageError("; ".join(refused) + "; " + ROUTE)
    return series, local


def working_folder(notebooks: str | Path | None = None, cwd: str | Path | None = None,
                   data_dir: str | Path | None = None) -> Path | None:
    """The analyst's working folder of a run: the folder holding the
    ``--notebooks`` folder when one is given, else the current folder. None
    when it lies inside the data folder (whatever comes with data is never
    run or imported)."""
    folder = Path(notebooks).resolve().parent if notebooks is not None else Path(cwd or Path.cwd()).resolve()
    if data_dir is not None and _inside(folder, data_dir):
        return None
    return folder


def notebooks_folder(work: Path | None, notebooks: str | Path | None = None) -> Path | None:
    """Where the analyst's notebooks are: ``--notebooks``, else ``<work>/notebooks``
    (never the package's own folder)."""
    folder = Path(notebooks) if notebooks is not None else (work / "notebooks" if work is not None else None)
    if folder is None or not folder.is_dir() or folder.resolve() == package_notebooks().resolve():
        return None
    return folder


def analyst_chapters(folder: str | Path | None) -> list[AnalystChapter]:
    """The chapters of the analyst's own in ``folder`` (a working folder's
    ``notebooks/``): every ``NN_<key>.ipynb`` that is not a notebook of the
    series, by number, then key."""
    if folder is None or not Path(folder).is_dir():
        return []
    series = {c.notebook for c in chapters().values()}
    keys = {c.key for c in chapters().values()}
    found = []
    for path in sorted(Path(folder).glob("*.ipynb")):
        m = CHAPTER_NAME.match(path.name)
        if not m or path.stem in series:
            continue
        key = m.group(2)
        if key in keys:  # 05_quadrant_view beside 07_quadrant_view: one key, one chapter
            key = f"{key}_{m.group(1)}"
        found.append(AnalystChapter(int(m.group(1)), key, path, _title(path, m.group(2))))
    return sorted(found, key=lambda c: (c.number, c.key))


def _title(path: Path, key: str) -> str:
    """The notebook's first Markdown heading, else its key in words."""
    try:
        book = nbformat.read(path, as_version=4)
    except Exception:
        return key.replace("_", " ").capitalize()
    for cell in book.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("#"):
                    return line.lstrip("#").strip()[:120] or key
    return key.replace("_", " ").capitalize()


def chapter_problems(path: str | Path) -> list[str]:
    """What keeps a chapter of the analyst's own from running (empty when
    nothing): it must read as a notebook, with one code cell tagged
    ``parameters`` (papermill puts the run's parameters after it) before its
    other code, and no raw cell. Its other cells are free: it is the
    analyst's, and the report marks it so."""
    try:
        book = nbformat.read(Path(path), as_version=4)
    except Exception as exc:
        return [f"it cannot be read as a notebook ({type(exc).__name__})"]
    problems = []
    number = {id(c): i for i, c in enumerate(book.cells, start=1)}
    raw = [number[id(c)] for c in book.cells if c.cell_type == "raw"]
    if raw:
        problems.append(f"cell {raw[0]} is a raw cell, which would reach the report unread (use Markdown)")
    code = [c for c in book.cells if c.cell_type == "code" and not _papermills(c)]
    tagged = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    if not code or len(tagged) != 1 or code[0] is not tagged[0]:
        problems.append("its first code cell must be the one cell tagged 'parameters' (data_dir, period, config, "
                        "run_dir, reports_dir: the run sets them), as in the series' notebooks")
    return problems


def _papermills(cell) -> bool:
    return any(tag in cell.metadata.get("tags", []) for tag in PAPERMILL_TAGS)


def is_analysts(cell) -> bool:
    """Whether ``cell`` is one of the analyst's own (tagged ``analyst``)."""
    return ANALYST_TAG in cell.metadata.get("tags", [])


def passed_over(cwd: str | Path | None, data_dir: str | Path | None) -> Path | None:
    """``<cwd>/notebooks`` when it holds notebooks but lies inside the data
    folder, so that :func:`find_series` did not use it (the run says so)."""
    folder = Path(cwd or Path.cwd()) / "notebooks"
    if folder.is_dir() and any(folder.glob("*.ipynb")) and _inside(folder, data_dir):
        return folder
    return None


def shape_problems(path: str | Path, *, committed: bool = False) -> list[str]:
    """What in the notebook at ``path`` breaks the series' shape (empty when
    none). ``committed`` also asks for a notebook saved without outputs, as
    the project's own are committed.

    Every node of every code cell's syntax tree is looked at, not only the
    statements: an argument of ``open_chapter`` or a keyword of a
    ``show.<block>`` call is a name of the parameters or a literal, never an
    expression that runs something."""
    path = Path(path)
    try:
        book = nbformat.read(path, as_version=4)
    except Exception as exc:  # not JSON, not a notebook
        return [f"it cannot be read as a notebook ({type(exc).__name__})"]
    stem = path.stem
    problems: list[str] = []
    number = {id(c): i for i, c in enumerate(book.cells, start=1)}
    # The analyst's cells and papermill's are not the series': their shape is free.
    code = [c for c in book.cells if c.cell_type == "code" and not is_analysts(c) and not _papermills(c)]
    if committed and any(c.get("outputs") or c.get("execution_count") is not None for c in code):
        problems.append("it is saved with outputs (clear them before committing)")
    raw = [number[id(c)] for c in book.cells if c.cell_type == "raw"]
    if raw:
        problems.append(f"cell {raw[0]} is a raw cell, which would reach the report unread (use Markdown)")
    tagged = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    if not code or len(tagged) != 1 or code[0] is not tagged[0]:
        return problems + ["its first code cell must be the one cell tagged 'parameters'"]
    params = _parse(tagged[0].source)
    if params is None:
        return problems + ["its parameters cell is not valid Python"]
    for node in params.body:
        if not (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
                and isinstance(node.value, ast.Constant) and isinstance(node.annotation, ast.Name)):
            problems.append("its parameters must be literals with type hints (name: str = \"...\")")
            break
    if not all("#" in line for line in tagged[0].source.splitlines()):
        problems.append("every parameter needs a comment saying what it is")
    if len(code) > MAX_CODE_CELLS:
        problems.append(f"it has {len(code)} code cells, more than {MAX_CODE_CELLS}")
    chapter = stem.split("_", 1)[1] if "_" in stem else stem
    opened = False
    for cell in code[1:]:
        where = f"cell {number[id(cell)]}"
        if len(cell.source.splitlines()) > MAX_LINES_PER_CELL:
            problems.append(f"{where} has {len(cell.source.splitlines())} lines, more than {MAX_LINES_PER_CELL}")
        tree = _parse(cell.source)
        if tree is None:
            problems.append(f"{where} is not valid Python (or holds a magic or shell command)")
            continue
        for node in tree.body:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                if getattr(node, "level", 0) or not all(_is_vga(n) for n in names):
                    outside = ", ".join(n for n in names if not _is_vga(n)) or "a relative module"
                    problems.append(f"{where} imports {outside}, from outside vga")
            elif isinstance(node, ast.Assign):
                if not _opens(node, chapter):
                    problems.append(f"{where} assigns something other than view = open_chapter({chapter!r}, "
                                    "data_dir, period, config, run_dir, reports_dir)")
                else:
                    opened = True
            elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call) and _shows(node.value):
                continue
            else:
                problems.append(f"{where} holds logic (only imports, open_chapter and show.<block>(view) calls)")
    if not opened:
        problems.append(f"no cell opens its chapter: view = open_chapter({chapter!r}, data_dir, period, ...)")
    if sum(c.cell_type == "markdown" and not is_analysts(c) for c in book.cells) < 2:
        problems.append("it needs prose for the reader (at least two Markdown cells)")
    return problems


def _is_vga(module: str) -> bool:
    return module == "vga" or module.startswith("vga.")


def _plain(node) -> bool:
    """A literal, or a name of the notebook's parameters or ``view``."""
    return (isinstance(node, ast.Constant) and not isinstance(node.value, bytes)) or (
        isinstance(node, ast.Name) and node.id in (*PARAMETERS, "view"))


def _opens(node: ast.Assign, chapter: str) -> bool:
    """``view = open_chapter("<chapter>", <parameters or literals>)``, nothing more."""
    call = node.value
    return (len(node.targets) == 1 and isinstance(node.targets[0], ast.Name) and node.targets[0].id == "view"
            and isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == "open_chapter"
            and bool(call.args) and isinstance(call.args[0], ast.Constant) and call.args[0].value == chapter
            and all(_plain(a) for a in call.args[1:]) and len(call.args) <= 1 + len(PARAMETERS)
            and all(k.arg in PARAMETERS and _plain(k.value) for k in call.keywords))


def _shows(call: ast.Call) -> bool:
    """``show.<block>(view, name=<literal>...)``: a public name of the
    chapter's presenter module, called with the view and literals only."""
    func = call.func
    return (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "show"
            and not func.attr.startswith("_") and all(_plain(a) for a in call.args)
            and all(k.arg is not None and _plain(k.value) for k in call.keywords))


def _parse(source: str):
    try:
        return ast.parse(source)
    except SyntaxError:
        return None


def check_folder(folder: str | Path = ".") -> tuple[list[str], dict]:
    """Every problem of a working folder's notebooks and modules, at once,
    with nothing run and no data read: each series notebook's shape
    (:func:`shape_problems`), each chapter of the analyst's own
    (:func:`chapter_problems`), and each Python module of the folder and
    its ``notebooks/`` and ``nodes/`` that would not compile. Returns the problems (one
    line each, naming the file and the cell as Jupyter's reader counts) and
    counts of what was checked: ``series``, ``yours``, ``modules`` and
    ``ignored`` (notebooks not named ``NN_<key>.ipynb``, which no run takes)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise UsageError(f"{folder}: no such folder; pass a working folder (vga init DIR makes one)")
    books = folder / "notebooks" if (folder / "notebooks").is_dir() else folder
    stems = {c.notebook for c in chapters().values()}
    problems: list[str] = []
    counts = {"series": 0, "yours": 0, "modules": 0, "ignored": []}
    for path in sorted(books.glob("*.ipynb")):
        if path.stem in stems:
            counts["series"] += 1
            found = shape_problems(path)
        elif CHAPTER_NAME.match(path.name):
            counts["yours"] += 1
            found = chapter_problems(path)
        else:
            counts["ignored"].append(path.name)
            continue
        problems += [f"{path}: {p}" for p in found]
    for module in sorted({*folder.glob("*.py"), *books.glob("*.py"), *folder.glob("nodes/*.py")}):
        counts["modules"] += 1
        try:
            compile(module.read_text(encoding="utf-8"), str(module), "exec", dont_inherit=True)
        except SyntaxError as exc:
            problems.append(f"{module}: line {exc.lineno}: {exc.msg}")
        except (UnicodeDecodeError, ValueError) as exc:
            problems.append(f"{module}: cannot be read as Python ({type(exc).__name__})")
    if not counts["series"] and not counts["yours"]:
        problems.append(f"{books} holds no notebook of the series and none named NN_<key>.ipynb; vga init DIR "
                        "writes a working folder to start from")
    return problems, counts
