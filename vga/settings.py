"""The run's settings, parsed once into typed, frozen objects per section.

:func:`vga.config.load_config` reads and validates ``vga.toml`` (the file's
own form: what is hashed, scrubbed of secrets and recorded in the
manifest); :meth:`Settings.parse` turns it into one :class:`Settings`, a
frozen object per section, which every node, chapter and measure reads::

    run.settings.analysis.alpha            # 0.05
    run.settings.usage.core_features       # ["dashboards", "reports", ...]
    run.settings.quick_wins.playbook["Churn Risk"]

Lists and tables of the file are frozen too (:class:`FrozenList`,
:class:`FrozenDict`: a list or dict that refuses changes, so pandas and
JSON take them as they are). Each section is also a read-only mapping
(``section["alpha"]``), for measures that take a section's settings as a
mapping. The meaning of every setting is in ``vga.toml``'s documentation
(docs/operations/configuration.md) and :data:`vga.config.DEFAULTS`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields


class FrozenList(list):
    """A list that refuses changes."""

    def _refuse(self, *args, **kwargs):
        raise TypeError("settings are read-only")

    append = extend = insert = pop = remove = clear = sort = reverse = _refuse
    __setitem__ = __delitem__ = __iadd__ = __imul__ = _refuse

    def __hash__(self):
        return hash(tuple(self))

    def __reduce__(self):  # pickled and copied whole, never item by item
        return FrozenList, (list(self),)


class FrozenDict(dict):
    """A dict that refuses changes."""

    def _refuse(self, *args, **kwargs):
        raise TypeError("settings are read-only")

    __setitem__ = __delitem__ = __ior__ = clear = pop = popitem = setdefault = update = _refuse

    def __hash__(self):
        return hash(tuple(sorted(self.items(), key=str)))

    def __reduce__(self):  # pickled and copied whole, never item by item
        return FrozenDict, (dict(self),)


def freeze(value):
    """``value`` with every list and dict in it frozen."""
    if isinstance(value, Mapping):
        return FrozenDict({k: freeze(v) for k, v in value.items()})
    if isinstance(value, (list, tuple)):
        return FrozenList(freeze(v) for v in value)
    return value


class _Section(Mapping):
    """A section's settings by name too (``section["alpha"]``), read-only."""

    def __getitem__(self, key: str):
        if key not in self._names():
            raise KeyError(key)
        return getattr(self, key)

    def __iter__(self):
        return iter(self._names())

    def __len__(self) -> int:
        return len(self._names())

    @classmethod
    def _names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))

    @classmethod
    def parse(cls, section: Mapping):
        return cls(**{name: freeze(section[name]) for name in cls._names()})


@dataclass(frozen=True, eq=False)
class Analysis(_Section):
    usage_threshold: float  # usage score (0-100) from which an account is a heavy user
    health_threshold: float  # health score (0-100) from which an account is healthy
    health_colors: FrozenList  # three health-score bounds: red below the first, yellow, lime, green
    min_accounts: int  # fewer accounts in a group: shown, not tested
    cox_max_groups: int  # a slicing dimension's largest groups the Cox model keeps apart; the others pooled
    alpha: float  # the false discovery rate at which a test flags (q < alpha)
    churn_lookback_months: int  # renewal decisions counted before the as-of date
    slicing_dimensions: FrozenList  # account columns sliced besides the standard ones
    redact_account_names: bool
    data_end: str  # ISO date the data runs to; empty: the latest date found
    coverage_tolerance_days: int  # a source ending at most this many days before a date still reaches it
    assumptions: FrozenList  # what a mapping assumed, shown in the report


@dataclass(frozen=True, eq=False)
class Usage(_Section):
    core_features: FrozenList
    value_events: FrozenList
    weights: FrozenDict  # usage-score component -> weight
    target_active_days: int  # active days in 30 that score 100
    target_events_per_session: float  # events per session that score 100


@dataclass(frozen=True, eq=False)
class Health(_Section):
    weights: FrozenDict  # health-score component -> weight
    max_age_days: FrozenDict  # component -> days after which a signal no longer counts


@dataclass(frozen=True, eq=False)
class Warehouse(_Section):
    url: str
    url_env: str
    events_table: str
    events_path: str


@dataclass(frozen=True, eq=False)
class EarlyWarning(_Section):
    usage_drop_share: float
    usage_min_events: int
    usage_drop_days: int
    health_drop_points: float
    ticket_spike_min: int
    ticket_spike_factor: float


@dataclass(frozen=True, eq=False)
class Models(_Section):
    min_events_per_term: int
    test_share: float


@dataclass(frozen=True, eq=False)
class Programme(_Section):
    sponsor: str
    task_force: FrozenList
    workstreams: FrozenList


@dataclass(frozen=True, eq=False)
class Report(_Section):
    currency: str  # shown before amounts; empty: plain numbers
    top_value_gaps: int
    top_quick_wins: int


@dataclass(frozen=True, eq=False)
class Targets(_Section):
    nrr: object  # a fraction (1.0 = 100%), or "" for no target
    grr: object
    logo_churn_rate: object


@dataclass(frozen=True, eq=False)
class Interventions(_Section):
    target_share: float
    from_colors: FrozenList
    to_colors: FrozenList


@dataclass(frozen=True, eq=False)
class QuickWins(_Section):
    max_account_wins: int
    min_churn_points: float  # churn-rate points above the reference that make a gap worth doing first...
    min_rate_ratio: float  # ...or this ratio of the reference's rate
    due_days: int  # an action is due at the latest this many days after the as-of date
    owners: FrozenDict  # action kind (a playbook key) -> the role that owns it
    playbook: FrozenDict  # gap -> recommended action


@dataclass(frozen=True, eq=False)
class Settings(Mapping):
    """Every section of the configuration, typed and frozen; also a
    read-only mapping of section name -> section."""

    analysis: Analysis
    usage: Usage
    health: Health
    warehouse: Warehouse
    early_warning: EarlyWarning
    models: Models
    programme: Programme
    report: Report
    interventions: Interventions
    quick_wins: QuickWins
    targets: Targets
    sources: FrozenDict  # table -> how its file or query is read (the loader's)
    churn_labels: FrozenDict  # label -> query returning account_id
    file: str = ""  # the vga.toml read; empty: none

    SECTIONS = {"analysis": Analysis, "usage": Usage, "health": Health, "warehouse": Warehouse,
                "early_warning": EarlyWarning, "models": Models, "programme": Programme, "report": Report,
                "interventions": Interventions, "quick_wins": QuickWins, "targets": Targets}

    @classmethod
    def parse(cls, config: Mapping) -> "Settings":
        """Settings from a validated configuration (:func:`vga.config.load_config`,
        or :data:`vga.config.DEFAULTS` merged with any sections given)."""
        if isinstance(config, Settings):
            return config
        from .config import DEFAULTS

        def section(name):
            return {**DEFAULTS[name], **(config.get(name) or {})}

        parsed = {name: kind.parse(section(name)) for name, kind in cls.SECTIONS.items()}
        return cls(**parsed, sources=freeze(config.get("sources") or {}),
                   churn_labels=freeze(config.get("churn_labels") or {}), file=config.get("_file") or "")

    def __getitem__(self, key: str):
        if key not in self.SECTIONS and key not in ("sources", "churn_labels"):
            raise KeyError(key)
        return getattr(self, key)

    def __iter__(self):
        return iter([*self.SECTIONS, "sources", "churn_labels"])

    def __len__(self) -> int:
        return len(self.SECTIONS) + 2
