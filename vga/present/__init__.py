"""The chapters of the report: one presenter module per notebook of the series.

A chapter presents: its module declares ``CHAPTER`` (its step number in the
value gap analysis, its title in the report, its notebook, the node whose
outputs it shows and any other outputs it shows too) and holds the
presenter functions its notebook calls. A presenter takes a
:class:`View` (what :func:`vga.notebook.open_chapter` opens) and returns an :class:`~vga.present.blocks.Html`
block (tables, figures, notes and findings written as sentences from the
data); it computes nothing a node did not.

The report's chapters, their order and titles, and the steps a report lacks
all come from :data:`CHAPTERS`: adding a chapter is one node
(:mod:`vga.nodes`), one presenter module here and one notebook; no list
elsewhere names it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..periods import Period
from ..settings import Settings

#: The value gap analysis has eleven steps; a report names any its chapters lack.
METHOD_STEPS = 11


@dataclass(frozen=True)
class Chapter:
    """One chapter of the report (see the module docstring).

    ``key`` is the presenter module's name, filled in by the registry;
    ``leads`` puts the chapter first in the report (the executive summary);
    the others follow in the order of the story, by ``place`` (what was
    lost, who lost it, why, what to do), then by step; an ``appendix``
    chapter (how the programme runs, which data it read) comes after them
    all, before the glossary: the message first, the method last.
    """

    number: int
    title: str
    notebook: str  # stem of notebooks/<notebook>.ipynb
    node: str  # the node whose outputs it shows, every one
    shows: tuple[str, ...] = ()  # outputs of other nodes it shows too
    leads: bool = False
    place: int = 0  # its place in the story after the summary; 0: by its step number
    appendix: bool = False
    #: Settings its presenter reads (``"analysis.alpha"``), besides the
    #: currency every chapter shows amounts in: a change to one executes its
    #: notebook again (:mod:`vga.run.reuse`; a test records the reads).
    reads: tuple[str, ...] = ()
    key: str = ""

    @property
    def presenter(self) -> str:
        """The module that presents it."""
        return f"{__name__}.{self.key}"


@dataclass(frozen=True)
class View:
    """One chapter's results, ready to present: output name -> value."""

    chapter: Chapter
    period: Period
    settings: Settings  # typed and frozen, section by section
    outputs: dict = field(repr=False)
    origin: str  # "run" (read from results/) or "computed"

    def __post_init__(self):  # a configuration mapping is parsed (tests, analysts building a view)
        object.__setattr__(self, "settings", Settings.parse(self.settings))

    def __getitem__(self, name: str):
        return self.outputs[name]

    def get(self, name: str, default=None):
        return self.outputs.get(name, default)


def _registry() -> dict[str, Chapter]:
    """Every module of this package that declares ``CHAPTER``, in step order."""
    import dataclasses
    import importlib
    import pkgutil

    found = []
    for module in pkgutil.iter_modules(__path__):
        chapter = getattr(importlib.import_module(f"{__name__}.{module.name}"), "CHAPTER", None)
        if isinstance(chapter, Chapter):
            found.append(dataclasses.replace(chapter, key=module.name))
    found.sort(key=lambda c: (c.number, c.notebook))
    return {c.key: c for c in found}


_CHAPTERS: dict[str, Chapter] = {}


def chapters() -> dict[str, Chapter]:
    """The chapters, in step order (key -> chapter); found once, on first use."""
    if not _CHAPTERS:
        _CHAPTERS.update(_registry())
    return _CHAPTERS


def report_order() -> list[Chapter]:
    """The chapters as a reader meets them: the leading one first (the
    executive summary), then the story by ``place`` (a chapter without
    one by its step number, after those with one), then the appendix."""
    return sorted(chapters().values(),
                  key=lambda c: (not c.leads, c.appendix, c.place or 100 + c.number, c.number, c.notebook))


def blocks_of(chapter: Chapter) -> list[str]:
    """The blocks a chapter's notebook may show (``show.<block>(view)``): the
    public functions of its presenter module whose first parameter is the
    view, in the order the module defines them."""
    import importlib
    import inspect

    module = importlib.import_module(chapter.presenter)
    found = []
    for name, function in vars(module).items():
        if name.startswith("_") or not inspect.isfunction(function) or function.__module__ != module.__name__:
            continue
        parameters = list(inspect.signature(function).parameters)
        if parameters and parameters[0] == "view":
            found.append(name)
    return found


def missing_steps() -> list[str]:
    """The steps of the value gap analysis no chapter presents ("Step 6")."""
    have = {c.number for c in chapters().values()}
    return [f"Step {n}" for n in range(1, METHOD_STEPS + 1) if n not in have]
