"""The spec store interface shared by the SQL and file backends, and the records it returns."""

from __future__ import annotations

import abc
import difflib
import getpass
import json
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeAlias

import yaml

from airflow_provider_scheduler.spec.dates import date_from_canonical, utc_instant
from airflow_provider_scheduler.spec.errors import Problem, SpecError
from airflow_provider_scheduler.spec.model import ScheduleSpec
from airflow_provider_scheduler.spec.parser import parse_spec
from airflow_provider_scheduler.store.errors import InvalidAuthorError, SpecBatchError, SpecNotFoundError

if TYPE_CHECKING:
    import builtins
    from collections.abc import Iterable, Mapping

    from airflow_provider_scheduler.spec.catalog import TemplateCatalog
    from airflow_provider_scheduler.spec.policy import GovernancePolicy

SpecInput: TypeAlias = "ScheduleSpec | Mapping[str, Any]"

#: the longest author a store records (the SQL store's ``author`` column; the same limit everywhere)
MAX_AUTHOR = 250


@dataclass(frozen=True)
class StoredSpec:
    """The current state of one spec in a store.

    :param id: the spec id, equal to the DAG id (``<namespace>.<name>``).
    :param namespace: the spec's namespace (team).
    :param name: the spec's name inside its namespace.
    :param revision: revision number, 1 for the first write, +1 for every change.
    :param spec: the canonical, validated spec (``ScheduleSpec.to_dict()``).
    :param paused: whether the schedule is paused (the same as ``spec["paused"]``).
    :param deleted: whether the spec is (soft) deleted; deleted specs only appear in
        :meth:`ScheduleStore.changes`, :meth:`ScheduleStore.history` and ``get(..., include_deleted=True)``.
    :param author: who wrote this revision.
    :param updated_at: when this revision was written (timezone-aware UTC).
    :param damaged: None, or why the store cannot read this spec (a row whose JSON is invalid, an
        unreadable spec file); ``spec`` is then ``{}``. Only ``list(include_damaged=True)`` returns
        such specs; ``get`` raises :class:`~airflow_provider_scheduler.store.errors.DamagedSpecError`.
    """

    id: str
    namespace: str
    name: str
    revision: int
    spec: dict[str, Any] = field(compare=True, hash=False)
    paused: bool
    deleted: bool
    author: str
    updated_at: datetime
    damaged: str | None = None


@dataclass(frozen=True)
class SpecRevision:
    """One entry of a spec's history.

    :param action: what the revision did: ``create``, ``update``, ``pause``, ``resume``, ``delete``
        or ``restore`` (a write to a deleted spec).
    :param damaged: None, or why this revision's spec cannot be read (``spec`` is then ``{}``).
    """

    id: str
    revision: int
    action: str
    spec: dict[str, Any] = field(compare=True, hash=False)
    paused: bool
    deleted: bool
    author: str
    updated_at: datetime
    damaged: str | None = None


class ChangeToken(str):
    """An opaque position in a store's change stream, returned by :meth:`ScheduleStore.changes`.

    It is a ``str``: persist it as text and pass the text back. A token is only meaningful to the
    store that issued it; any other token (another database, a restored backup that is behind the
    token, garbage) makes :meth:`ScheduleStore.changes` return a full listing.
    """

    __slots__ = ()


class ChangeSet(tuple):  # type: ignore[type-arg]
    """The result of :meth:`ScheduleStore.changes`: unpacks as ``(specs, token)``.

    ``.full`` is True when ``specs`` is a complete listing (first read, unknown token, or a change the
    store cannot describe incrementally, such as a file removed behind the file store's back): a
    reader must then drop every spec it holds that is not in ``specs``.

    ``.damaged`` maps the specs among the changes that the store cannot read (a row with invalid
    JSON; for the file store also an unreadable file, by its path when its spec id is unknown) to the
    reason; they are not in ``specs``, and a reader must not keep an old copy of them. With ``full``
    it lists every damaged spec.
    """

    full: bool
    damaged: dict[str, str]

    def __new__(
        cls,
        specs: list[StoredSpec],
        token: ChangeToken,
        full: bool = False,
        damaged: Mapping[str, str] | None = None,
    ) -> ChangeSet:
        obj = super().__new__(cls, (specs, token))
        obj.full = full
        obj.damaged = dict(damaged or {})
        return obj

    @property
    def specs(self) -> list[StoredSpec]:
        return self[0]  # type: ignore[no-any-return]

    @property
    def token(self) -> ChangeToken:
        return self[1]  # type: ignore[no-any-return]


def default_author() -> str:
    """The author recorded when none is given: ``$USER``, else the login name, else ``unknown``."""
    user = os.environ.get("USER")
    if user:
        return user
    try:
        return getpass.getuser()
    except Exception:  # getpass raises OSError/KeyError without a passwd entry
        return "unknown"


def check_author(author: str) -> str:
    """``author`` if every store can record it, else :class:`InvalidAuthorError` saying why.

    At most :data:`MAX_AUTHOR` characters, not empty, no control characters (they would garble
    ``history`` tables and logs), and encodable as UTF-8 (a lone surrogate, e.g. from a non-UTF-8
    command line, would fail inside the database driver).
    """
    if not author.strip():
        raise InvalidAuthorError("the author is empty; give a name (e.g. --author alice)")
    if len(author) > MAX_AUTHOR:
        raise InvalidAuthorError(f"the author is too long ({len(author)} characters; at most {MAX_AUTHOR})")
    if any(ord(char) < 32 or 127 <= ord(char) < 160 for char in author):
        raise InvalidAuthorError("the author contains control characters (such as a newline or tab)")
    try:
        author.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidAuthorError("the author is not valid UTF-8 text") from None
    return author


def canonical_json(spec: Mapping[str, Any]) -> str:
    """The stored text of a canonical spec dict (key order kept, compact, UTF-8)."""
    return json.dumps(spec, separators=(",", ":"), ensure_ascii=False)


def spec_to_yaml(spec: Mapping[str, Any]) -> str:
    """Readable YAML of a canonical spec dict (key order kept), as ``export`` and ``diff`` show it."""
    return yaml.safe_dump(
        dict(spec), sort_keys=False, default_flow_style=False, allow_unicode=True, width=100
    )


def unified_diff(spec_id: str, old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> str:
    """A unified diff between two spec dicts as YAML; empty when they are equal."""
    old_text = spec_to_yaml(old) if old is not None else ""
    new_text = spec_to_yaml(new) if new is not None else ""
    if old_text == new_text:
        return ""
    lines = difflib.unified_diff(
        old_text.splitlines(keepends=True),
        new_text.splitlines(keepends=True),
        fromfile=f"{spec_id} (stored)" if old is not None else "/dev/null",
        tofile=f"{spec_id} (candidate)" if new is not None else "/dev/null",
    )
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


class ScheduleStore(abc.ABC):
    """Where schedule specs live: every write is validated and makes a new revision.

    Open one with :func:`airflow_provider_scheduler.store.open_store`. Writes take an ``author`` and,
    optionally, the ``expected_revision`` the change was based on: when the stored revision differs
    the write fails with :class:`~airflow_provider_scheduler.store.ConflictError` and nothing changes.
    ``expected_revision=0`` means "the spec must not exist yet".

    :param uri: the URI the store was opened from, password hidden (used in messages).
    :param registry: template catalog used to validate specs (default catalog when None).
    :param policy: governance policy used to validate specs (default policy when None).
    """

    read_only: bool = False

    def __init__(
        self, uri: str, *, registry: TemplateCatalog | None = None, policy: GovernancePolicy | None = None
    ) -> None:
        self.uri = uri
        self.registry = registry
        self.policy = policy
        #: what the last read found that it could not use: one SpecError per damaged spec (naming the
        #: spec and the row or file) and, for the file store, per invalid or duplicate spec file
        self.problems: builtins.list[SpecError] = []

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.uri!r})"

    def __enter__(self) -> ScheduleStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # validation ------------------------------------------------------------------------------
    def validate(self, spec: SpecInput) -> ScheduleSpec:
        """Parse ``spec`` (a mapping) with the store's registry and policy; a ScheduleSpec is returned as is.

        :raises SpecError: with every problem found.
        """
        if isinstance(spec, ScheduleSpec):
            return spec
        return parse_spec(spec, catalog=self.registry, policy=self.policy)

    def validate_batch(self, specs: Iterable[SpecInput]) -> builtins.list[ScheduleSpec]:
        """Validate a batch: all valid and no id twice, else :class:`SpecBatchError` with every error."""
        parsed: builtins.list[ScheduleSpec] = []
        errors: builtins.list[SpecError] = []
        seen: dict[str, int] = {}
        for index, item in enumerate(specs):
            try:
                spec = self.validate(item)
            except SpecError as err:
                errors.append(err)
                continue
            if spec.dag_id in seen:
                errors.append(
                    SpecError(
                        [Problem("", f"appears twice in the batch (items {seen[spec.dag_id]} and {index})")],
                        spec_id=spec.dag_id,
                    )
                )
                continue
            seen[spec.dag_id] = index
            parsed.append(spec)
        if errors:
            raise SpecBatchError(errors)
        return parsed

    # reads -----------------------------------------------------------------------------------
    @abc.abstractmethod
    def get(self, spec_id: str, *, include_deleted: bool = False) -> StoredSpec | None:
        """The current state of ``spec_id``, or None when unknown (or deleted, unless ``include_deleted``)."""

    def require(self, spec_id: str, *, include_deleted: bool = False) -> StoredSpec:
        """Like :meth:`get` but raises :class:`SpecNotFoundError` instead of returning None."""
        stored = self.get(spec_id, include_deleted=True)
        if stored is None:
            raise SpecNotFoundError(spec_id)
        if stored.deleted and not include_deleted:
            raise SpecNotFoundError(spec_id, deleted=True)
        return stored

    @abc.abstractmethod
    def list(
        self,
        *,
        namespace: str | None = None,
        paused: bool | None = None,
        changed_since: datetime | ChangeToken | str | None = None,
        include_deleted: bool = False,
        include_damaged: bool = False,
    ) -> builtins.list[StoredSpec]:
        """Stored specs ordered by id.

        A spec the store cannot read is left out and reported in :attr:`problems`, so it never hides
        the others; with ``include_damaged`` it is returned with ``damaged`` set and ``spec={}``.

        :param namespace: only this namespace.
        :param paused: only paused (True) or only active (False) specs.
        :param changed_since: only specs written after this time (aware datetime) or change token.
        :param include_deleted: include soft-deleted specs.
        :param include_damaged: include damaged specs (see :attr:`StoredSpec.damaged`).
        """

    @abc.abstractmethod
    def changes(self, since: ChangeToken | str | None = None) -> ChangeSet:
        """Specs changed after ``since`` (deleted ones included, flagged) and the token to pass next time.

        ``since=None`` returns every spec, deleted ones included (``ChangeSet.full`` is True).
        """

    @abc.abstractmethod
    def history(self, spec_id: str) -> builtins.list[SpecRevision]:
        """Every revision of ``spec_id``, oldest first.

        :raises SpecNotFoundError: when the store never held the spec.
        """

    def diff(self, spec: SpecInput) -> str:
        """A unified diff (YAML) from the stored version of ``spec`` to ``spec``; empty when unchanged.

        :raises SpecError: when ``spec`` is invalid.
        """
        parsed = self.validate(spec)
        stored = self.get(parsed.dag_id)
        return unified_diff(parsed.dag_id, stored.spec if stored else None, parsed.to_dict())

    # writes ----------------------------------------------------------------------------------
    def put(self, spec: SpecInput, *, author: str | None = None, expected_revision: int | None = None) -> int:
        """Validate and store ``spec``; return its revision.

        Writing a spec equal to the stored one writes nothing and returns the current revision.

        :param spec: a ScheduleSpec or a mapping that ``parse_spec`` accepts.
        :param author: who makes the change (default :func:`default_author`).
        :param expected_revision: the revision the change is based on (0: must not exist yet).
        :raises SpecError: the spec is invalid; nothing is stored.
        :raises ConflictError: ``expected_revision`` is not the stored revision.
        """
        author = check_author(author or default_author())
        parsed = self.validate(spec)
        expected = {parsed.dag_id: expected_revision} if expected_revision is not None else None
        return self._write([parsed], author=author, expected=expected)[0]

    def put_many(
        self,
        specs: Iterable[SpecInput],
        *,
        author: str | None = None,
        expected_revisions: Mapping[str, int] | None = None,
    ) -> builtins.list[int]:
        """Validate and store a batch, all-or-nothing; return the revisions in input order.

        :param expected_revisions: optional ``{spec_id: revision}`` checked like ``expected_revision``.
        :raises SpecBatchError: some specs are invalid or repeated; nothing is stored.
        :raises ConflictError: a revision check failed; nothing is stored.
        :raises StoreUnavailableError: the store became unreachable; nothing of the batch is stored.
        """
        author = check_author(author or default_author())
        parsed = self.validate_batch(specs)
        if not parsed:
            return []
        return self._write(parsed, author=author, expected=expected_revisions)

    def delete(self, spec_id: str, *, author: str | None = None, expected_revision: int | None = None) -> int:
        """Soft-delete ``spec_id`` (kept in history); return the new revision.

        :raises SpecNotFoundError: unknown or already deleted.
        """
        return self._set_state(spec_id, "delete", check_author(author or default_author()), expected_revision)

    def pause(self, spec_id: str, *, author: str | None = None, expected_revision: int | None = None) -> int:
        """Set ``paused: true`` on ``spec_id`` as a new revision (no-op if already paused).

        The stored spec is not re-validated, so a spec that no longer passes a tightened policy can
        still be paused.
        """
        return self._set_state(spec_id, "pause", check_author(author or default_author()), expected_revision)

    def resume(self, spec_id: str, *, author: str | None = None, expected_revision: int | None = None) -> int:
        """Set ``paused: false`` on ``spec_id`` as a new revision (no-op if not paused)."""
        return self._set_state(spec_id, "resume", check_author(author or default_author()), expected_revision)

    def finish(self, spec_id: str, *, author: str | None = None, expected_revision: int | None = None) -> int:
        """Record that the one run of a ``@once`` spec has finished; return the new revision.

        The run's end becomes the spec's ``end_date`` in a new revision (action ``finish``), so the
        history says when it finished and by whom (the DAG's callback writes ``airflow (run ...)``),
        and the loader drops the spec from the loaded DAGs on its next refresh. A no-op when the spec
        already ended.
        """
        return self._set_state(spec_id, "finish", check_author(author or default_author()), expected_revision)

    @abc.abstractmethod
    def _write(
        self, specs: builtins.list[ScheduleSpec], *, author: str, expected: Mapping[str, int] | None
    ) -> builtins.list[int]:
        """Store validated specs in one all-or-nothing step."""

    @abc.abstractmethod
    def _set_state(self, spec_id: str, action: str, author: str, expected_revision: int | None) -> int:
        """Apply ``pause``, ``resume``, ``delete`` or ``finish`` as a new revision."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections and files."""


def state_after(action: str, spec: dict[str, Any]) -> tuple[dict[str, Any], bool, bool] | None:
    """The (spec, paused, deleted) a state action produces from a live spec, or None for a no-op."""
    paused = bool(spec.get("paused", False))
    if action == "delete":
        return spec, paused, True
    if action == "finish":
        now = datetime.now(UTC).replace(microsecond=0)
        end = spec.get("end_date")
        if end and _ended(end, now):
            return None
        return {**spec, "end_date": now.isoformat()}, paused, False
    want = action == "pause"
    if paused == want:
        return None
    new_spec = dict(spec)
    new_spec["paused"] = want
    return new_spec, want, False


def _ended(value: str, now: datetime) -> bool:
    """Whether a stored (canonical) ``end_date`` is at or before ``now`` (a date: midnight UTC)."""
    try:
        return utc_instant(date_from_canonical(value)) <= now
    except ValueError:
        return False
