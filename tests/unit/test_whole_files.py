"""Files replaced whole (pipelines/whole_files.py): the status record and the inbox's fingerprints."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from pipelines.whole_files import write_whole


def test_a_file_is_replaced_whole_with_its_mode(tmp_path: Path) -> None:
    path = tmp_path / "state" / "record.json"
    write_whole(path, "first", 0o600)
    assert path.read_text(encoding="utf-8") == "first" and stat.S_IMODE(os.stat(path).st_mode) == 0o600
    write_whole(path, "二", 0o644)
    assert path.read_text(encoding="utf-8") == "二" and stat.S_IMODE(os.stat(path).st_mode) == 0o644
    assert sorted(p.name for p in path.parent.iterdir()) == ["record.json"]


def test_a_failed_replace_leaves_no_partial_file_and_says_so(tmp_path: Path) -> None:
    in_the_way = tmp_path / "record.json"
    in_the_way.mkdir()
    (in_the_way / "kept").write_text("x", encoding="utf-8")
    with pytest.raises(OSError):
        write_whole(in_the_way, "new", 0o600)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["record.json"]
    assert (in_the_way / "kept").read_text(encoding="utf-8") == "x"
