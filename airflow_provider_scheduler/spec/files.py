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
    """The spec files below the folder ``root``, in sorted order (see the module docstring).

    :raises OSError: ``root`` or a folder below it cannot be listed (a skipped folder could make a
        GitOps sync prune the specs it holds).
    """
    real_root = os.path.realpath(root)
    found: list[Path] = []
    _collect(os.fspath(root), real_root, found)
    return found


def _collect(folder: str, real_root: str, found: list[Path]) -> None:
    with os.scandir(folder) as listing:
        entries = sorted(listing, key=lambda entry: entry.name)
    for entry in entries:
        if entry.name.startswith("."):
            continue
        if entry.is_dir(follow_symlinks=False):
            _collect(entry.path, real_root, found)
        elif is_spec_file_name(entry.name) and _readable_file(entry, real_root):
            found.append(Path(entry.path))


def _readable_file(entry: os.DirEntry[str], real_root: str) -> bool:
    """A regular file, or a symlink to a regular file inside the root (not dangling, not escaping)."""
    if not entry.is_symlink():
        return entry.is_file(follow_symlinks=False)
    target = os.path.realpath(entry.path)
    inside = os.path.commonpath([target, real_root]) == real_root
    return inside and os.path.isfile(target)


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

    The bytes are decoded later (``spec.loader``), so input that is not UTF-8 gets the same one-line
    message as such a file.

    :raises SpecError: stdin is closed or unreadable, or the input is longer than ``max_bytes``
        (nothing more is read).
    """
    stream = sys.stdin if stream is None else stream
    if stream is None:  # the process was started with stdin closed
        raise SpecError([Problem("", "stdin is closed: nothing to read for '-'")], source=STDIN_SOURCE)
    try:
        binary = getattr(stream, "buffer", None)
        if binary is not None:
            data: bytes = binary.read(max_bytes + 1)
        else:  # a text stream without a byte buffer (io.StringIO): a character is at least one byte
            text = stream.read(max_bytes + 1)
            data = text.encode("utf-8", "surrogateescape") if isinstance(text, str) else text
    except UnicodeError:  # a text stream that decodes for itself
        raise SpecError([Problem("", "the input is not UTF-8 text")], source=STDIN_SOURCE) from None
    except (OSError, ValueError) as exc:  # ValueError: read from a closed file
        reason = getattr(exc, "strerror", None) or str(exc)
        raise SpecError([Problem("", f"cannot read stdin: {reason}")], source=STDIN_SOURCE) from None
    if len(data) > max_bytes:
        raise SpecError(
            [Problem("", f"the input is too large (more than {max_bytes} bytes; at most {max_bytes} bytes)")],
            source=STDIN_SOURCE,
        )
    return data
