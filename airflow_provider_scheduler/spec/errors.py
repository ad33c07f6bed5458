"""Problems found in a schedule spec, and the error that carries all of them."""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from collections.abc import Iterable


class Problem(NamedTuple):
    """One thing wrong with a spec.

    :param path: JSON path of the offending value, e.g. ``tasks[1].depends_on[0]``; ``""`` is the root.
    :param message: what is wrong, in words a non-programmer understands.
    """

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path or '(root)'}: {self.message}"


class SpecError(ValueError):
    """A spec (or a spec file) is invalid; ``problems`` lists every problem found, not just the first.

    :param problems: the problems, in the order they were found.
    :param spec_id: the dag_id of the spec when it is known (namespace and name were valid).
    :param source: the file the spec came from, when it came from a file.
    """

    def __init__(
        self,
        problems: Iterable[Problem | tuple[str, str]],
        *,
        spec_id: str | None = None,
        source: str | None = None,
    ) -> None:
        self.problems: list[Problem] = [Problem(*p) for p in problems]
        self.spec_id = spec_id
        self.source = source
        super().__init__(self.__str__())

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)

    def __reduce__(self):  # keep pickling (multiprocessing, Airflow's import-error capture) working
        return (_rebuild_spec_error, (self.problems, self.spec_id, self.source))


def _rebuild_spec_error(problems: list[Problem], spec_id: str | None, source: str | None) -> SpecError:
    return SpecError(problems, spec_id=spec_id, source=source)


def problem_lines(err: SpecError, source: str | None = None) -> list[str]:
    """Every problem of ``err`` as a ``FILE: SPEC-ID: PATH: MESSAGE`` line, the way every command prints it.

    :param source: the file to name (default ``err.source``; ``-`` when neither is known).
    """
    where = source or err.source or "-"
    spec_id = err.spec_id or "-"
    return [f"{where}: {spec_id}: {p.path or '(root)'}: {p.message}" for p in err.problems]


def join_path(base: str, key: str | int) -> str:
    """Append a key or list index to a JSON path (``tasks`` + ``1`` -> ``tasks[1]``)."""
    if isinstance(key, int):
        return f"{base}[{key}]"
    if base:
        return f"{base}.{key}"
    return key
