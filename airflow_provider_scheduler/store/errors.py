"""Errors raised by spec stores.

They carry what a user needs to act (spec id, both revisions, the store URI with its password
hidden) and never a secret.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow_provider_scheduler.spec.errors import problem_lines

if TYPE_CHECKING:
    from airflow_provider_scheduler.spec.errors import SpecError


class StoreError(Exception):
    """Base class of every error a spec store raises."""


class InvalidStoreUriError(StoreError, ValueError):
    """The store URI cannot be used (unknown scheme, missing path, missing database driver)."""


class StoreUnavailableError(StoreError):
    """The store cannot be reached (database down, file unreadable, database locked for too long).

    :param uri: the store URI with its password hidden.
    :param reason: a short description of the underlying failure (no secrets).
    """

    def __init__(self, uri: str, reason: str = "") -> None:
        self.uri = uri
        self.reason = reason
        message = f"the store at {uri} is unreachable"
        if reason:
            message += f": {reason}"
        super().__init__(message)


class ConflictError(StoreError):
    """A write was based on a revision that is no longer the current one.

    :param spec_id: the spec's id (``<namespace>.<name>``).
    :param current_revision: the revision the store holds now (0 when the spec does not exist).
    :param expected_revision: the revision the rejected change was based on.
    """

    def __init__(self, spec_id: str, current_revision: int, expected_revision: int) -> None:
        self.spec_id = spec_id
        self.current_revision = current_revision
        self.expected_revision = expected_revision
        if current_revision == 0:
            message = (
                f"spec {spec_id} does not exist yet, your change was based on revision {expected_revision}"
            )
        elif expected_revision == 0:
            message = (
                f"spec {spec_id} already exists at revision {current_revision}, "
                "your change expected it not to exist"
            )
        else:
            message = (
                f"spec {spec_id} is at revision {current_revision}, "
                f"your change was based on revision {expected_revision}"
            )
        super().__init__(message + "; reload it and apply your change again")


class SpecNotFoundError(StoreError, LookupError):
    """No spec with this id is stored (or it is deleted, for operations that need a live spec)."""

    def __init__(self, spec_id: str, *, deleted: bool = False) -> None:
        self.spec_id = spec_id
        self.deleted = deleted
        message = f"spec {spec_id} is deleted" if deleted else f"spec {spec_id} is not in the store"
        super().__init__(message)

    def __str__(self) -> str:  # LookupError would quote the message otherwise
        return str(self.args[0])


class ReadOnlyStoreError(StoreError):
    """A write was attempted on a read-only store."""

    def __init__(self, uri: str) -> None:
        self.uri = uri
        super().__init__(f"the store at {uri} is read-only; writes are not allowed")


class SpecBatchError(StoreError, ValueError):
    """One or more specs of a batch are invalid (or repeated); nothing of the batch was stored.

    The message lists every problem as ``FILE: SPEC-ID: PATH: MESSAGE`` (``-`` for what is unknown).

    :param errors: one :class:`~airflow_provider_scheduler.spec.SpecError` per invalid spec.
    """

    def __init__(self, errors: list[SpecError]) -> None:
        self.errors = errors
        lines = [f"{len(errors)} invalid spec(s) in the batch; nothing was stored:"]
        lines += [line for err in errors for line in problem_lines(err)]
        super().__init__("\n".join(lines))


class InvalidAuthorError(StoreError, ValueError):
    """The author of a write cannot be recorded (too long, control characters, not UTF-8 text).

    Every backend checks the same rule before it writes anything, so an author the SQL store's
    column would refuse is refused the same way by the file store.
    """


class DamagedSpecError(StoreError):
    """A stored spec cannot be read back (invalid JSON or the wrong shape in its row or file).

    Only that spec is affected: listings leave it out (``list(include_damaged=True)`` shows it) and
    the loader reports it. Writing a good version of it (``apply``) or deleting it repairs the store.

    :param spec_id: the spec's id.
    :param reason: what is wrong, e.g. ``its spec is not valid JSON (...)``.
    """

    def __init__(self, spec_id: str, reason: str) -> None:
        self.spec_id = spec_id
        self.reason = reason
        super().__init__(
            f"spec {spec_id} is damaged in the store: {reason}; apply a good version of it or delete it"
        )


class RevisionNotFoundError(StoreError, LookupError):
    """The store holds the spec but not this revision of it (never written, or its record is lost).

    :param spec_id: the spec's id.
    :param revision: the revision asked for.
    :param available: the revisions the store holds of the spec, oldest first.
    """

    def __init__(self, spec_id: str, revision: int, available: list[int]) -> None:
        self.spec_id = spec_id
        self.revision = revision
        self.available = list(available)
        super().__init__(
            f"spec {spec_id} has no revision {revision}; its revisions are {revision_ranges(available)}"
        )

    def __str__(self) -> str:  # LookupError would quote the message otherwise
        return str(self.args[0])


class DamagedRevisionError(StoreError):
    """One revision of a spec's history cannot be read back (invalid JSON or the wrong shape).

    :param spec_id: the spec's id.
    :param revision: the damaged revision.
    :param reason: what is wrong, e.g. ``its spec is not valid JSON (...)``.
    """

    def __init__(self, spec_id: str, revision: int, reason: str) -> None:
        self.spec_id = spec_id
        self.revision = revision
        self.reason = reason
        super().__init__(
            f"revision {revision} of spec {spec_id} is damaged in the store: {reason}; "
            "it cannot be shown or rolled back to"
        )


class RevisionInvalidError(SpecBatchError):
    """An old revision of a spec no longer validates under today's templates and limits.

    Raised by a rollback to it; nothing was stored. ``errors`` holds the spec's problems, their
    source being ``revision N``.

    :param spec_id: the spec's id.
    :param revision: the revision rolled back to.
    """

    def __init__(self, spec_id: str, revision: int, errors: list[SpecError]) -> None:
        self.spec_id = spec_id
        self.revision = revision
        super().__init__(errors)
        lines = [
            f"revision {revision} of spec {spec_id} does not pass today's validation (templates, limits "
            "and governance); nothing was stored:"
        ]
        lines += [line for err in errors for line in problem_lines(err)]
        self.args = ("\n".join(lines),)


def revision_ranges(numbers: list[int]) -> str:
    """Revision numbers as short text: ``[1, 2, 3, 5]`` -> ``1-3, 5``; ``none`` when empty."""
    parts: list[str] = []
    ordered = sorted(set(numbers))
    start = prev = None
    for number in [*ordered, None]:
        if number is not None and prev is not None and number == prev + 1:
            prev = number
            continue
        if start is not None:
            parts.append(str(start) if start == prev else f"{start}-{prev}")
        start = prev = number
    return ", ".join(parts) or "none"
