"""``write_atomic``: the one way the package replaces a file."""

from __future__ import annotations

import os
import stat
from typing import TYPE_CHECKING

import pytest

from airflow_provider_scheduler.store.atomic_file import write_atomic

if TYPE_CHECKING:
    from pathlib import Path


class TestWriteAtomic:
    def test_text_and_bytes(self, tmp_path: Path) -> None:
        write_atomic(tmp_path / "a.txt", "é\n")
        write_atomic(tmp_path / "b.bin", b"\x00\x01")
        assert (tmp_path / "a.txt").read_bytes() == "é\n".encode()
        assert (tmp_path / "b.bin").read_bytes() == b"\x00\x01"

    def test_replaces_and_creates_folders_and_leaves_no_temporary_file(self, tmp_path: Path) -> None:
        target = tmp_path / "deep" / "er" / "spec.yaml"
        write_atomic(target, "old")
        write_atomic(target, "new")
        assert target.read_text() == "new"
        assert os.listdir(target.parent) == ["spec.yaml"]

    def test_a_failed_write_keeps_the_old_content(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        target = tmp_path / "spec.yaml"
        write_atomic(target, "old")

        def broken_replace(src: str, dst: str) -> None:
            raise OSError(28, "No space left on device")

        monkeypatch.setattr(os, "replace", broken_replace)
        with pytest.raises(OSError, match="No space left"):
            write_atomic(target, "new")
        assert target.read_text() == "old"
        assert os.listdir(tmp_path) == ["spec.yaml"]

    def test_the_file_and_its_folder_are_fsynced(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        synced: list[bool] = []
        real_fsync = os.fsync

        def fsync(fd: int) -> None:
            synced.append(stat.S_ISDIR(os.fstat(fd).st_mode))
            real_fsync(fd)

        monkeypatch.setattr(os, "fsync", fsync)
        write_atomic(tmp_path / "a.txt", "x")
        assert synced == [False, True]  # the temporary file, then the folder
