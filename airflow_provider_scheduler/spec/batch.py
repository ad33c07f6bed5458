"""Reading a batch of specs from files, folders and stdin, with every problem of every file.

``validate``, ``apply``, ``diff`` and ``ApplyScheduleSpecsOperator`` read their input through
:func:`read_spec_batch`: the same files (:mod:`~airflow_provider_scheduler.spec.files`), the same
size cap on stdin, the same duplicate check, the same problem lines
(:func:`~airflow_provider_scheduler.spec.errors.problem_lines`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from airflow_provider_scheduler.spec.errors import Problem, SpecError, problem_lines
from airflow_provider_scheduler.spec.files import STDIN, STDIN_SOURCE, find_spec_files
from airflow_provider_scheduler.spec.loader import read_spec_file, read_spec_stdin

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path
    from typing import IO, Any

    from airflow_provider_scheduler.spec.catalog import TemplateCatalog
    from airflow_provider_scheduler.spec.model import ScheduleSpec
    from airflow_provider_scheduler.spec.policy import GovernancePolicy


@dataclass
class SpecBatch:
    """The specs read from a list of paths, and what was wrong with the rest.

    :param specs: the valid specs, first definition of each id only, in file order.
    :param sources: where each valid spec was read (``{spec_id: file}``; ``<stdin>`` for stdin).
    :param errors: one SpecError per invalid spec, unreadable file or repeated id (``source`` set).
    :param files: the files read (stdin counts as one).
    :param base_revisions: ``{spec_id: revision}`` of the valid specs whose document carries
        ``x-base-revision`` (the store revision it was exported at; see
        :data:`~airflow_provider_scheduler.spec.loader.BASE_REVISION_KEY`).
    """

    specs: list[ScheduleSpec] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)
    errors: list[SpecError] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    base_revisions: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """No spec is invalid and no id is repeated."""
        return not self.errors

    def problem_lines(self) -> list[str]:
        """Every problem as a ``FILE: SPEC-ID: PATH: MESSAGE`` line."""
        return [line for err in self.errors for line in problem_lines(err)]

    def add_error(self, err: SpecError) -> None:
        """Record a problem found outside the reading (e.g. a spec outside the allowed namespace)."""
        self.errors.append(err)


def read_spec_batch(
    paths: Sequence[str | os.PathLike[str]],
    *,
    catalog: TemplateCatalog | None = None,
    policy: GovernancePolicy | None = None,
    stdin: IO[Any] | None = None,
    empty_file_is_error: bool = False,
) -> SpecBatch:
    """Read every spec of ``paths`` (files, folders, ``-`` for stdin); never raises for bad input.

    :param catalog: templates to validate against (the default catalog when None).
    :param policy: governance policy (default policy when None); its ``max_spec_bytes`` caps every file
        and stdin.
    :param stdin: the stream ``-`` reads (default ``sys.stdin``).
    :param empty_file_is_error: report a file holding an empty list as a problem (``validate``).
    """
    batch = SpecBatch()
    files: list[Path] = []
    for item in paths:
        try:
            files.extend(find_spec_files([item]))
        except OSError as exc:  # a folder that cannot be listed is a problem, not a silent skip
            reason = exc.strerror or str(exc)
            batch.errors.append(
                SpecError([Problem("", f"cannot read the folder: {reason}")], source=str(item))
            )
    for path in files:
        is_stdin = os.fspath(path) == STDIN
        source = STDIN_SOURCE if is_stdin else str(path)
        batch.files.append(source)
        bases: dict[str, int] = {}
        try:
            if is_stdin:
                results = read_spec_stdin(catalog=catalog, policy=policy, stream=stdin, base_revisions=bases)
            else:
                results = read_spec_file(path, catalog=catalog, policy=policy, base_revisions=bases)
        except SpecError as err:
            err.source = source
            batch.errors.append(err)
            continue
        if not results and empty_file_is_error:
            batch.errors.append(SpecError([Problem("", "the file holds an empty list")], source=source))
        for result in results:
            if isinstance(result, SpecError):
                result.source = source
                batch.errors.append(result)
            elif result.dag_id in batch.sources:
                batch.errors.append(
                    SpecError(
                        [Problem("", f"duplicate spec id; also defined in {batch.sources[result.dag_id]}")],
                        spec_id=result.dag_id,
                        source=source,
                    )
                )
            else:
                batch.sources[result.dag_id] = source
                batch.specs.append(result)
                if result.dag_id in bases:
                    batch.base_revisions[result.dag_id] = bases[result.dag_id]
    return batch
