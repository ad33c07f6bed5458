"""Replacing a file atomically: readers see the old content or the new one, never a torn write."""

from __future__ import annotations

import contextlib
import os
import tempfile
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path


def write_atomic(
    path: str | os.PathLike[str], data: str | bytes, *, encoding: str = "utf-8", durable: bool = True
) -> None:
    """Write ``data`` (text or bytes) to ``path`` through a temporary file in the same folder.

    The temporary file is renamed over ``path`` with :func:`os.replace`: a reader sees the old content
    or the new one. With ``durable`` (the default) the file and then the folder are fsynced, so the new
    content survives a crash once this returns (a folder it had to create is fsynced in its parent
    too); ``durable=False`` skips both for files rewritten on
    every DAG parse whose loss costs nothing (the loader's status). Missing parent folders are created.
    On failure ``path`` is unchanged and the temporary file removed.

    :param path: the file to replace.
    :param data: its new content; ``str`` is encoded with ``encoding``.
    :param encoding: encoding of text ``data``.
    :param durable: fsync the file and its folder before returning.
    """
    target = os.fspath(path)
    folder = os.path.dirname(target) or "."
    created = not os.path.isdir(folder)
    os.makedirs(folder, exist_ok=True)
    raw = data.encode(encoding) if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{os.path.basename(target)}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(raw)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    if durable:
        _fsync_folder(folder)
        if created:  # the new folder's own entry must survive a crash too
            _fsync_folder(os.path.dirname(os.path.abspath(folder)))


def _fsync_folder(folder: str | Path) -> None:
    """Make a rename in ``folder`` durable; a no-op where folders cannot be opened (Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)
