"""Which files hold specs, and reading a spec from stdin: the one rule every reader of spec files uses.

The rule (``validate``, ``apply``, ``diff``, ``ApplyScheduleSpecsOperator`` and the file store):

- A spec file ends in ``.yaml``, ``.yml`` or ``.json``, in any case (``B.YAML`` counts).
- Below a folder, names starting with ``.`` are skipped, files and folders alike (``.git``,
  ``.history`` of the file store, editors' ``.swp`` files).
- Symlinked files are read when their target lies inside the folder; symlinked folders are not
  entered (no escape from the folder, no loops).
- Files come in sorted order of their path below the folder (folder by folder, name by name), so
  "the first definition wins" means the same file everywhere.
- A file named explicitly is always read, whatever its name (``-`` means stdin).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from airflow_provider_scheduler.spec.errors import Problem, SpecError

if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import IO, Any

SPEC_FILE_SUFFIXES = (".yaml", ".yml", ".json")
STDIN = "-"
STDIN_SOURCE = "<stdin>"


def is_spec_file_name(name: str) -> bool:
    """Whether a file name found in a folder names a spec file (not hidden, a spec suffix in any case)."""
    return not name.startswith(".") and name.lower().endswith(SPEC_FILE_SUFFIXES)


def spec_files_under(root: str | os.PathLike[str]) -> list[Path]:
    """The spec files below the folder ``root``, in sorted order (see the module docstring)."""
    top = Path(root)
    real_top = top.resolve()
    found: list[tuple[tuple[str, ...], Path]] = []
    for dirpath, dirnames, filenames in os.walk(top):  # followlinks=False: symlinked folders not entered
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        for filename in filenames:
            if not is_spec_file_name(filename):
                continue
            path = Path(dirpath, filename)
            if path.is_symlink() and not _inside(path.resolve(), real_top):
                continue
            if not path.is_file():  # a dangling link, a socket named x.yaml
                continue
            found.append((path.relative_to(top).parts, path))
    found.sort()
    return [path for _, path in found]


def find_spec_files(paths: Sequence[str | os.PathLike[str]]) -> list[Path]:
    """Expand folders into their spec files; a named file (or ``-``) is kept as it is, in order given."""
    out: list[Path] = []
    for item in paths:
        path = Path(item)
        if os.fspath(item) != STDIN and path.is_dir():
            out.extend(spec_files_under(path))
        else:
            out.append(path)
    return out


def read_stdin(max_bytes: int, stream: IO[Any] | None = None) -> bytes:
    """Read a spec document from stdin (or ``stream``), at most ``max_bytes`` bytes.

    :raises SpecError: the input is longer than ``max_bytes`` (nothing more is read).
    """
    stream = sys.stdin if stream is None else stream
    binary = getattr(stream, "buffer", None)
    if binary is not None:
        data: bytes = binary.read(max_bytes + 1)
    else:  # a text stream without a byte buffer (io.StringIO): a character is at least one byte
        text = stream.read(max_bytes + 1)
        data = text.encode("utf-8") if isinstance(text, str) else text
    if len(data) > max_bytes:
        raise SpecError(
            [Problem("", f"the input is too large (more than {max_bytes} bytes; at most {max_bytes} bytes)")],
            source=STDIN_SOURCE,
        )
    return data


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents
