"""Recompute only what changed: each node's results kept with what it read.

A run keeps, per period, each node's outputs in ``<out>/.vga-cache/<period>/<node>/``
with a *trace* of what the node read when it computed them:

- the data's fingerprint (:func:`data_fingerprint`: every file's sha256 as
  loaded, the mapping, the period, the coverage, the previous period's
  quadrants, whether names were redacted), and the code's
  (:func:`code_fingerprint`: vga's version and the sha256 of its source);
- the fingerprint of each node it needs;
- every setting it read, by name (``analysis.usage_threshold``), with the
  value it had: reads are recorded as the node runs
  (:func:`recording_settings`), so nothing needs declaring and nothing read
  is missed.

The next run of the period reuses a node's kept outputs when the data and
code are the same, the nodes it needs were reused or came out with the same
fingerprint, and every setting it read has the same value; otherwise the
node computes, and so does everything downstream of it. A chapter's
notebook is executed again only when the nodes it shows, its notebook, or
a setting its presenter reads (:attr:`vga.present.Chapter.reads`) changed;
a notebook holding cells of the analyst's own, and a chapter of the
analyst's own, are always executed (they may read anything). The manifest
lists what was reused (``reused``).

The kept outputs are the files a run writes to ``results/`` (CSV, JSON,
workbooks), read back value for value (:func:`vga.run.pipeline.read`):
nothing in the cache is code, so a cache cannot run anything. Events in a
warehouse have no fingerprint a run can take cheaply: with one, nothing is
reused.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import fields
from functools import lru_cache
from pathlib import Path

from ..nodes import Node
from ..settings import Settings

CACHE_DIR = ".vga-cache"
#: Bumped when the trace's layout changes: older traces are not read.
TRACE_VERSION = 1


def _digest(value) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """vga's version and the sha256 of every module of the package: a
    change to any of them recomputes everything."""
    from .. import __version__

    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256(__version__.encode())
    for path in sorted(root.rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def compute_fingerprint(node: Node) -> str:
    """The node's compute function itself (its module, name and bytecode):
    a node replaced at run time (a test's, a plug-in's) is not taken for
    the one that made the kept results."""
    function = node.compute
    code = getattr(function, "__code__", None)
    return _digest([getattr(function, "__module__", ""), getattr(function, "__qualname__", repr(function)),
                    _code_print(code) if code else ""])


def _code_print(code) -> list:
    """A code object as stable text: its bytecode and constants, nested code
    (a lambda, a comprehension) by its own, never by its address in memory."""
    return [code.co_code.hex(), [(_code_print(c) if hasattr(c, "co_code") else repr(c)) for c in code.co_consts]]


def data_fingerprint(loaded_manifest: list, config: dict, period: str, coverage: dict,
                     previous: Path | None = None, redact_key: str = "") -> str:
    """What every node reads besides its settings and the nodes it needs:
    the loaded files (sha256 and counts), how they were mapped and read
    (``sources``, ``churn_labels``, ``usage`` and ``limits``, which shape the
    inputs before any node runs), the period, its coverage, the previous
    period's quadrants file and the redaction key's fingerprint."""
    prior = hashlib.sha256(previous.read_bytes()).hexdigest() if previous is not None and previous.is_file() else ""
    shaping = {k: config.get(k) for k in ("sources", "churn_labels", "usage", "limits", "health")}
    return _digest({"inputs": loaded_manifest, "shaping": shaping, "period": period, "coverage": coverage,
                    "previous": prior, "redact": hashlib.sha256(redact_key.encode()).hexdigest() if redact_key else ""})


def recording_settings(settings: Settings) -> tuple[Settings, dict]:
    """``settings`` as a node sees them, and the dictionary its reads fill:
    setting name (``"analysis.alpha"``, ``"sources"``) -> the value read.
    The recording settings are the same types (a section is still its
    class, a mapping), so a node cannot tell them apart."""
    reads: dict = {}

    def section(name: str, value):
        kind = type(value)
        names = {f.name for f in fields(kind)}

        def read(self, attr):
            found = object.__getattribute__(self, attr)
            if attr in names:
                reads[f"{name}.{attr}"] = found
            return found

        recorded = type(f"Recorded{kind.__name__}", (kind,), {"__getattribute__": read})
        return recorded(**{f: getattr(value, f) for f in names})

    sections = {name: section(name, getattr(settings, name)) for name in Settings.SECTIONS}
    plain = {"sources", "churn_labels", "file"}

    def top(self, attr):
        found = object.__getattribute__(self, attr)
        if attr in plain:
            reads[attr] = found
        return found

    recorded = type("RecordedSettings", (Settings,), {"__getattribute__": top})
    return recorded(**sections, sources=settings.sources, churn_labels=settings.churn_labels,
                    file=settings.file), reads


def setting_value(settings: Settings, name: str):
    """The value of the setting ``name`` (``"analysis.alpha"``) in ``settings``."""
    value = settings
    for part in name.split("."):
        value = getattr(value, part)
    return value


class NodeCache:
    """The kept outputs and traces of one period's nodes (see the module
    docstring). ``reused`` lists the nodes a computation took from it."""

    def __init__(self, folder: Path, data: str):
        self.folder = Path(folder)
        self.data = data
        self.code = code_fingerprint()
        self.reused: list[str] = []
        self.computed: list[str] = []

    def _trace(self, node: Node) -> dict | None:
        path = self.folder / node.key / "trace.json"
        try:
            trace = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return trace if isinstance(trace, dict) and trace.get("version") == TRACE_VERSION else None

    def lookup(self, node: Node, settings: Settings, needs: dict[str, str]) -> tuple[str, dict] | None:
        """(fingerprint, outputs) kept for ``node`` when its trace still
        holds: same data and code, same fingerprints of the nodes it needs
        (``needs``: key -> fingerprint), every setting it read unchanged."""
        from . import pipeline

        trace = self._trace(node)
        if (trace is None or trace["data"] != self.data or trace["code"] != self.code or trace["needs"] != needs
                or trace.get("compute") != compute_fingerprint(node)):
            return None
        for name, seen in trace["reads"].items():
            try:
                now = setting_value(settings, name)
            except AttributeError:
                return None
            if _digest(now) != seen:
                return None
        folder = self.folder / node.key
        outputs = {}
        for out in node.outputs:
            if out.name in trace["written"]:
                if not (folder / out.name).is_file():
                    return None
                outputs[out.name] = pipeline.read(folder, out.name)
            else:
                outputs[out.name] = None
        return trace["fingerprint"], outputs

    def keep(self, node: Node, reads: dict, needs: dict[str, str], outputs: dict) -> str:
        """Keep ``node``'s outputs with their trace; returns its fingerprint."""
        from . import pipeline

        trace = {"version": TRACE_VERSION, "node": node.key, "data": self.data, "code": self.code,
                 "compute": compute_fingerprint(node), "needs": needs,
                 "reads": {name: _digest(value) for name, value in sorted(reads.items())}}
        trace["fingerprint"] = _digest(trace)
        folder = self.folder / node.key
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        written = pipeline.write_node(node, outputs, folder)
        trace["written"] = sorted(p.name for p in written)
        (folder / "trace.json").write_text(json.dumps(trace, indent=1), encoding="utf-8")
        return trace["fingerprint"]


def chapter_fingerprint(source: Path, shown_nodes: dict[str, str], settings: Settings, reads: tuple[str, ...],
                        parameters: dict) -> str:
    """What a chapter's executed notebook depends on: the notebook as
    written, the fingerprints of the nodes whose outputs it shows, the
    settings its presenter reads (and the currency every chapter shows
    amounts in), and the run's parameters but its temporary folder."""
    values = {name: _digest(setting_value(settings, name)) for name in ("report.currency", *reads)}
    return _digest({"notebook": hashlib.sha256(Path(source).read_bytes()).hexdigest(), "nodes": shown_nodes,
                    "settings": values, "code": code_fingerprint(),
                    "parameters": {k: v for k, v in parameters.items() if k != "run_dir"}})
