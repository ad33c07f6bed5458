"""Governance limits the platform team sets for every spec (Python API and ``[schedule_specs]`` config)."""

from __future__ import annotations

import dataclasses
import fnmatch
import functools
import itertools
import json
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow_provider_scheduler.spec.durations import DurationError, format_duration, parse_duration

if TYPE_CHECKING:
    from collections.abc import Mapping

DEFAULT_MAX_SPEC_BYTES = 1024 * 1024


@dataclass(frozen=True)
class GovernancePolicy:
    """Limits applied when a spec is validated.

    :param max_tasks: most tasks one spec may have.
    :param min_interval: shortest allowed time between two scheduled runs (cron, crons, every).
    :param max_params: most ``params`` one spec may declare.
    :param max_spec_bytes: largest spec file / document accepted, checked before parsing.
    :param max_active_runs: the highest ``max_active_runs`` a spec may ask for.
    :param max_retries: the highest ``retries`` a spec may ask for.
    :param max_at_dates: most date-times one ``at`` schedule may list (at most the language's 500).
    :param max_map_length: most items one task's ``for_each`` may fan out over: checked at validation
        for a literal list, and when the task runs for a list from a param.
    :param asset_targets: per-namespace glob patterns (``fnmatch``) of the asset URIs a namespace's
        task ``outlets`` may update; ``{namespace}`` in a pattern is the spec's namespace, the key
        ``"*"`` applies to namespaces not listed. ``None`` allows any URI.
    :param allowed_templates: per-namespace allow-list of task and notification template names;
        the key ``"*"`` applies to namespaces not listed. ``None`` allows every enabled template.
        This is where ``[schedule_specs] allowed_templates`` is read and enforced (parser and factory).
    :param airflow_version: ``(major, minor)`` of the Airflow the specs are built on (filled in by
        :meth:`from_airflow_config`); the parser refuses a feature this version lacks (``deadline``
        needs 3.1) with a message naming the version it needs. None: not checked.
    :param pools: per-namespace lists of the Airflow pool names a namespace's tasks may name in
        ``pool``; the key ``"*"`` applies to namespaces not listed. ``None`` (not set): no pool may
        be named.
    :param max_active_tasks: the highest ``max_active_tasks`` a spec may ask for.
    """

    max_tasks: int = 50
    min_interval: timedelta = timedelta(minutes=5)
    max_params: int = 30
    max_spec_bytes: int = DEFAULT_MAX_SPEC_BYTES
    max_active_runs: int = 16
    max_retries: int = 10
    max_at_dates: int = 100
    allowed_templates: Mapping[str, frozenset[str]] | None = field(default=None)
    asset_targets: Mapping[str, tuple[str, ...]] | None = field(default=None)
    airflow_version: tuple[int, int] | None = None
    max_map_length: int = 64
    pools: Mapping[str, tuple[str, ...]] | None = field(default=None)
    max_active_tasks: int = 64

    def __post_init__(self) -> None:
        if self.pools is not None:
            object.__setattr__(self, "pools", {str(k): tuple(v) for k, v in self.pools.items()})
        if self.asset_targets is not None:
            targets = {str(k): tuple(v) for k, v in self.asset_targets.items()}
            object.__setattr__(self, "asset_targets", targets)
        if self.allowed_templates is not None:
            frozen = {str(k): frozenset(v) for k, v in self.allowed_templates.items()}
            object.__setattr__(self, "allowed_templates", frozen)

    def __hash__(self) -> int:  # every field; allowed_templates (a dict) as sorted pairs
        allowed = None if self.allowed_templates is None else tuple(sorted(self.allowed_templates.items()))
        return hash(
            (
                self.max_tasks,
                self.min_interval,
                self.max_params,
                self.max_spec_bytes,
                self.max_active_runs,
                self.max_retries,
                self.max_at_dates,
                allowed,
                None if self.asset_targets is None else tuple(sorted(self.asset_targets.items())),
                self.airflow_version,
                self.max_map_length,
                None if self.pools is None else tuple(sorted(self.pools.items())),
                self.max_active_tasks,
            )
        )

    def needs_airflow(self, version: tuple[int, int], what: str) -> str | None:
        """None when this deployment's Airflow has ``version`` or later, else the refusal's text."""
        if self.airflow_version is None or self.airflow_version >= version:
            return None
        have = ".".join(map(str, self.airflow_version))
        return f"{what} needs Airflow {version[0]}.{version[1]} or later; this deployment runs Airflow {have}"

    def allows_template(self, name: str, namespace: str | None) -> bool:
        """Whether the per-namespace allow-list lets ``namespace`` use template ``name``."""
        if self.allowed_templates is None:
            return True
        names = self.allowed_templates.get(namespace or "", self.allowed_templates.get("*"))
        if names is None:
            return True
        return name in names

    def asset_patterns(self, namespace: str | None) -> tuple[str, ...] | None:
        """The URI patterns ``namespace`` may update (``{namespace}`` filled in); None: any URI."""
        if self.asset_targets is None:
            return None
        patterns = self.asset_targets.get(namespace or "", self.asset_targets.get("*"))
        if patterns is None:
            return ()
        return tuple(p.replace("{namespace}", namespace or "") for p in patterns)

    def allows_asset(self, uri: str, namespace: str | None) -> bool:
        """Whether a task of ``namespace`` may list ``uri`` in its ``outlets``."""
        patterns = self.asset_patterns(namespace)
        return patterns is None or any(fnmatch.fnmatchcase(uri, p) for p in patterns)

    def pool_names(self, namespace: str | None) -> tuple[str, ...]:
        """The pools ``namespace``'s tasks may name (none when ``[schedule_specs] pools`` is not set)."""
        if self.pools is None:
            return ()
        return self.pools.get(namespace or "", self.pools.get("*", ()))

    @classmethod
    def from_airflow_config(cls) -> GovernancePolicy:
        """Build the policy from the ``[schedule_specs]`` section of Airflow's configuration."""
        from airflow import __version__
        from airflow.configuration import conf

        def get(key: str) -> str:
            return (conf.get("schedule_specs", key, fallback="") or "").strip()

        policy = cls.from_options({k: get(k) for k in CONFIG_OPTIONS})
        return dataclasses.replace(policy, airflow_version=airflow_major_minor(__version__))

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> GovernancePolicy:
        """Build a policy from config-style string options (empty or missing = default).

        :raises ValueError: an option is malformed (named in the message).
        """
        kwargs: dict[str, Any] = {}
        for option, attr in (
            ("max_tasks_per_spec", "max_tasks"),
            ("max_params", "max_params"),
            ("max_spec_bytes", "max_spec_bytes"),
            ("max_active_runs", "max_active_runs"),
            ("max_retries", "max_retries"),
            ("max_at_dates", "max_at_dates"),
            ("max_map_length", "max_map_length"),
            ("max_active_tasks", "max_active_tasks"),
        ):
            raw = options.get(option)
            if raw not in (None, ""):
                try:
                    kwargs[attr] = int(raw)
                except ValueError:
                    raise ValueError(
                        f"[schedule_specs] {option} must be a whole number, not {raw!r}"
                    ) from None
        raw = options.get("min_schedule_interval")
        if raw not in (None, ""):
            try:
                kwargs["min_interval"] = parse_duration(str(raw))
            except DurationError as exc:
                raise ValueError(f"[schedule_specs] min_schedule_interval: {exc}") from None
        allowed = namespace_lists(
            options,
            "allowed_templates",
            "template names",
            '{"analytics": ["trigger_dag", "empty"], "*": ["empty"]}',
        )
        if allowed is not None:
            kwargs["allowed_templates"] = allowed
        targets = namespace_lists(
            options,
            "asset_targets",
            "asset URI patterns",
            '{"analytics": ["s3://warehouse/{namespace}/*"], "*": []}',
        )
        if targets is not None:
            kwargs["asset_targets"] = targets
        pools = namespace_lists(
            options, "pools", "Airflow pool names", '{"analytics": ["warehouse"], "*": ["default_pool"]}'
        )
        if pools is not None:
            kwargs["pools"] = pools
        return cls(**kwargs)

    def describe(self) -> dict[str, Any]:
        """The limits as a JSON-able dict (for docs and ``airflow-scheduler schema``)."""
        return {
            "max_tasks": self.max_tasks,
            "min_interval": format_duration(self.min_interval),
            "max_params": self.max_params,
            "max_spec_bytes": self.max_spec_bytes,
            "max_active_runs": self.max_active_runs,
            "max_retries": self.max_retries,
            "max_at_dates": self.max_at_dates,
            "max_map_length": self.max_map_length,
            "max_active_tasks": self.max_active_tasks,
        }


def namespace_lists(
    options: Mapping[str, Any], option: str, what: str, example: str
) -> dict[str, list[str]] | None:
    """A ``[schedule_specs]`` option that maps namespaces to lists of strings, as JSON (None: not set).

    :param options: the config-style options.
    :param option: the option's name.
    :param what: what the lists hold, for the error message ("template names").
    :param example: a valid value, for the error message.
    :raises ValueError: not JSON, or not such a mapping (the message names the option).
    """
    raw = options.get(option)
    if isinstance(raw, str):
        raw = raw.strip()
    if raw in (None, ""):
        return None
    try:
        value = json.loads(raw) if isinstance(raw, str) else raw
    except json.JSONDecodeError as exc:
        raise ValueError(f"[schedule_specs] {option} is not valid JSON: {exc}") from None
    if not isinstance(value, dict) or not all(
        isinstance(v, list) and all(isinstance(n, str) for n in v) for v in value.values()
    ):
        raise ValueError(f"[schedule_specs] {option} must map namespaces to lists of {what}, e.g. {example}")
    return {str(k): list(v) for k, v in value.items()}


def airflow_major_minor(version: str) -> tuple[int, int] | None:
    """``(3, 1)`` of ``"3.1.8"`` (or ``"3.1.0rc1"``); None for a version string of another shape."""
    parts = version.split(".")
    digits = [int("".join(itertools.takewhile(str.isdigit, p)) or -1) for p in parts[:2]]
    if len(digits) < 2 or min(digits) < 0:
        return None
    return digits[0], digits[1]


#: Options of the ``[schedule_specs]`` section this module reads (documented in get_provider_info).
CONFIG_OPTIONS = (
    "max_tasks_per_spec",
    "min_schedule_interval",
    "max_params",
    "max_spec_bytes",
    "max_active_runs",
    "max_retries",
    "max_at_dates",
    "allowed_templates",
    "asset_targets",
    "max_map_length",
    "pools",
    "max_active_tasks",
)


@functools.lru_cache(maxsize=1)
def default_policy() -> GovernancePolicy:
    """The policy from Airflow's configuration (cached); plain defaults when Airflow is unavailable."""
    try:
        import airflow.configuration  # noqa: F401
    except ImportError:  # pragma: no cover - Airflow is a dependency; keep the CLI usable anyway
        return GovernancePolicy()
    return GovernancePolicy.from_airflow_config()
