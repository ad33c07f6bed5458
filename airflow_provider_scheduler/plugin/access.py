"""Who may read and write which specs through the portal: Airflow's auth manager plus namespaces.

Two checks, both must pass:

1. The configured auth manager (SimpleAuthManager, FAB, Keycloak, ...) is asked about the spec's
   DAG id: reading a spec needs read access to its DAG (``GET``), writing needs edit access (``PUT``),
   triggering needs permission to create a run (``POST`` on the DAG's runs). The DAG need not exist
   yet: auth managers answer for a DAG id they have not seen from their global DAG permissions.
2. The admin option ``[schedule_specs] namespace_access`` (JSON) maps a namespace to who may read and
   write it: user names, ``role:NAME`` and ``group:NAME`` entries (as the auth manager knows them),
   or ``"*"`` (every signed-in user). The key ``"*"`` applies to every namespace not listed; a
   namespace that is neither listed nor covered by ``"*"`` is closed. Empty option: no namespace
   restriction beyond the auth manager.

A user's roles and groups are read from the user object the auth manager returns, whatever its type:
``role`` (SimpleAuthManager), ``roles`` (FAB: objects with a ``name``), ``groups`` and ``teams``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

ANY_USER = "*"
OTHER_NAMESPACES = "*"
EXAMPLE = '{"analytics": ["alice", "role:analysts"], "qa": ["group:qa"], "*": ["role:admin"]}'


class NamespaceAccessError(ValueError):
    """``[schedule_specs] namespace_access`` is malformed (the message says what and shows an example)."""


def _names(value: Any) -> list[str]:
    """Names of a user attribute that may be a string, a list of strings or of objects with ``name``."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if not isinstance(value, Iterable):
        value = [value]
    names = []
    for item in value:
        name = item if isinstance(item, str) else getattr(item, "name", None)
        if isinstance(name, str) and name:
            names.append(name)
    return names


@dataclass(frozen=True)
class Principal:
    """What namespace entries are matched against: the user's name, roles and groups.

    Roles and groups compare case-insensitively (SimpleAuthManager spells its roles ``admin`` in the
    configuration and ``ADMIN`` in code); user names compare exactly.
    """

    name: str
    roles: frozenset[str]
    groups: frozenset[str]

    @classmethod
    def of(cls, user: Any) -> Principal:
        """The principal of an auth manager's user object (any auth manager)."""
        getter = getattr(user, "get_name", None)
        name = getter() if callable(getter) else getattr(user, "username", None)
        roles = _names(getattr(user, "role", None)) + _names(getattr(user, "roles", None))
        groups = _names(getattr(user, "groups", None)) + _names(getattr(user, "teams", None))
        return cls(
            name=str(name or ""),
            roles=frozenset(r.casefold() for r in roles),
            groups=frozenset(g.casefold() for g in groups),
        )

    def matches(self, entry: str) -> bool:
        """Whether one ``namespace_access`` entry names this user."""
        if entry == ANY_USER:
            return True
        kind, sep, value = entry.partition(":")
        if sep and kind == "role":
            return value.casefold() in self.roles
        if sep and kind == "group":
            return value.casefold() in self.groups
        return entry == self.name


class NamespaceAccess:
    """The parsed ``[schedule_specs] namespace_access`` mapping.

    :param mapping: namespace (or ``"*"``) -> entries; None or empty: every namespace is open.
    """

    def __init__(self, mapping: Mapping[str, Iterable[str]] | None = None) -> None:
        self.mapping: dict[str, tuple[str, ...]] = {k: tuple(v) for k, v in (mapping or {}).items()}

    @property
    def restricted(self) -> bool:
        """Whether the admin configured a mapping at all."""
        return bool(self.mapping)

    @classmethod
    def parse(cls, raw: str | None) -> NamespaceAccess:
        """Parse the option's text.

        :raises NamespaceAccessError: not JSON, or not an object of lists of strings.
        """
        text = (raw or "").strip()
        if not text:
            return cls()
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise NamespaceAccessError(
                f"[schedule_specs] namespace_access is not valid JSON ({exc}); expected e.g. {EXAMPLE}"
            ) from None
        if not isinstance(data, dict):
            raise NamespaceAccessError(
                f"[schedule_specs] namespace_access must be a JSON object, e.g. {EXAMPLE}"
            )
        for namespace, entries in data.items():
            if not isinstance(entries, list) or not all(isinstance(e, str) and e for e in entries):
                raise NamespaceAccessError(
                    f"[schedule_specs] namespace_access: the entry for {namespace!r} must be a list of "
                    f"user names, 'role:NAME' or 'group:NAME' strings, e.g. {EXAMPLE}"
                )
            for entry in entries:
                kind, sep, value = entry.partition(":")
                if sep and kind in ("role", "group") and not value:
                    raise NamespaceAccessError(
                        f"[schedule_specs] namespace_access: {namespace!r} has {entry!r} without a name"
                    )
        return cls(data)

    @classmethod
    def from_airflow_config(cls) -> NamespaceAccess:
        """Read ``[schedule_specs] namespace_access`` from Airflow's configuration."""
        from airflow.configuration import conf

        return cls.parse(conf.get("schedule_specs", "namespace_access", fallback=""))

    def entries_for(self, namespace: str) -> tuple[str, ...] | None:
        """The entries governing ``namespace`` (its own, else ``"*"``'s); None: closed or unrestricted."""
        if namespace in self.mapping:
            return self.mapping[namespace]
        return self.mapping.get(OTHER_NAMESPACES)

    def allows(self, principal: Principal, namespace: str) -> bool:
        """Whether ``principal`` may read and write specs of ``namespace`` (auth manager aside)."""
        if not self.restricted:
            return True
        entries = self.entries_for(namespace)
        if entries is None:
            return False
        return any(principal.matches(entry) for entry in entries)

    def allows_unlisted(self, principal: Principal) -> bool:
        """Whether ``principal`` may use every namespace the mapping does not name (``"*"``)."""
        if not self.restricted:
            return True
        return any(principal.matches(entry) for entry in self.mapping.get(OTHER_NAMESPACES, ()))

    def listed_namespaces(self) -> list[str]:
        """The namespaces named in the mapping (``"*"`` excluded), sorted."""
        return sorted(ns for ns in self.mapping if ns != OTHER_NAMESPACES)


class Authorizer:
    """Answers "may this user do this to this spec?" for one request.

    :param auth_manager: Airflow's auth manager (``airflow.api_fastapi.app.get_auth_manager()``).
    :param user: the signed-in user (what ``get_user`` returned).
    :param namespaces: the namespace mapping.
    """

    def __init__(self, auth_manager: Any, user: Any, namespaces: NamespaceAccess) -> None:
        self.auth_manager = auth_manager
        self.user = user
        self.principal = Principal.of(user)
        self.namespaces = namespaces

    @property
    def user_name(self) -> str:
        """The name recorded as the author of every revision this user writes."""
        return self.principal.name or "unknown"

    def may_use_namespace(self, namespace: str) -> bool:
        return self.namespaces.allows(self.principal, namespace)

    def _dag_allowed(self, method: str, dag_id: str, *, runs: bool = False) -> bool:
        # Local: Airflow 3's API models; this module's namespace rules also run (and are tested) on 2.11.
        from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity, DagDetails

        return bool(
            self.auth_manager.is_authorized_dag(
                method=method,
                access_entity=DagAccessEntity.RUN if runs else None,
                details=DagDetails(id=dag_id),
                user=self.user,
            )
        )

    def can_read(self, spec_id: str) -> bool:
        """Read the spec, its history and its DAG's state."""
        return self.may_use_namespace(_namespace_of(spec_id)) and self._dag_allowed("GET", spec_id)

    def can_write(self, spec_id: str) -> bool:
        """Apply, pause, resume, delete, restore or roll back the spec."""
        return self.may_use_namespace(_namespace_of(spec_id)) and self._dag_allowed("PUT", spec_id)

    def can_read_runs(self, spec_id: str) -> bool:
        return self.can_read(spec_id) and self._dag_allowed("GET", spec_id, runs=True)

    def can_trigger(self, spec_id: str) -> bool:
        return self.may_use_namespace(_namespace_of(spec_id)) and self._dag_allowed(
            "POST", spec_id, runs=True
        )

    def readable(self, spec_ids: Iterable[str]) -> set[str]:
        """The ids of ``spec_ids`` this user may read (one batch question to the auth manager)."""
        candidates = {s for s in spec_ids if self.may_use_namespace(_namespace_of(s))}
        if not candidates:
            return set()
        batch = getattr(self.auth_manager, "filter_authorized_dag_ids", None)
        if callable(batch):
            return set(batch(dag_ids=candidates, user=self.user, method="GET"))
        return {s for s in candidates if self._dag_allowed("GET", s)}


def _namespace_of(spec_id: str) -> str:
    return spec_id.partition(".")[0]
