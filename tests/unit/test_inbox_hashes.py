"""The inbox files' SHA-256 remembered between refreshes (pipelines/ingest/inbox.py): a file is
read again exactly when it may have changed, and the record names no file."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import time
from pathlib import Path

import pytest

import pipelines.ingest.inbox as inbox_module
from pipelines.ingest.inbox import RememberedHashes, discover

ID_IN_NAME = "500112194903150012"


@pytest.fixture()
def inbox(tmp_path: Path) -> Path:
    towns, registries = tmp_path / "inbox" / "towns", tmp_path / "inbox" / "registries"
    towns.mkdir(parents=True)
    registries.mkdir()
    (towns / "统景镇_2022年06月_进度表.xlsx").write_bytes(b"first workbook")
    (registries / f"特困人员名册_20220630_{ID_IN_NAME}.csv").write_bytes(b"id,name\n")
    return tmp_path / "inbox"


@pytest.fixture()
def hashed(monkeypatch) -> list[str]:
    """The names of the files whose bytes are read, in order (files just written are remembered
    here: the tests' files are all new)."""
    monkeypatch.setattr(RememberedHashes, "RECENT_NS", 0)
    read: list[str] = []
    real = inbox_module.sha256_of

    def counting(path: Path) -> str:
        read.append(path.name)
        return real(path)

    monkeypatch.setattr(inbox_module, "sha256_of", counting)
    return read


def _identities(files) -> list[tuple[str, str, str]]:
    return [(f.relative_path, f.sha256, f.file_id) for f in files]


def test_an_unchanged_file_is_not_read_again(inbox: Path, tmp_path: Path, hashed: list[str]) -> None:
    record = tmp_path / "warehouse" / "inbox_sha256.json"
    first = discover(inbox, record)
    assert len(hashed) == 2 and record.exists()
    again = discover(inbox, record)
    assert len(hashed) == 2  # nothing read the second time
    assert _identities(again) == _identities(first)
    assert first[0].sha256 == hashlib.sha256(Path(first[0].path).read_bytes()).hexdigest()
    # without a record every file is read, with the same result
    assert [f.file_id for f in discover(inbox)] == [f.file_id for f in first]
    assert len(hashed) == 4


def test_a_file_rewritten_with_its_size_and_time_kept_is_read_again(inbox: Path, tmp_path: Path,
                                                                    hashed: list[str]) -> None:
    """A copy that keeps the old file's modification time (cp -p, an unzipped archive) and size:
    the status-change time, which no one can set back, still tells it apart."""
    record = tmp_path / "warehouse" / "inbox_sha256.json"
    workbook = next((inbox / "towns").iterdir())
    before = {f.relative_path: f for f in discover(inbox, record)}
    old = os.stat(workbook)
    time.sleep(0.05)  # beyond the coarse clock's tick: a change within it is covered by RECENT_NS
    workbook.write_bytes(b"other workbook")  # same length as "first workbook"
    os.utime(workbook, ns=(old.st_atime_ns, old.st_mtime_ns))
    assert os.stat(workbook).st_size == old.st_size and os.stat(workbook).st_mtime_ns == old.st_mtime_ns
    hashed.clear()
    after = {f.relative_path: f for f in discover(inbox, record)}
    assert hashed == [workbook.name]
    changed = after[f"towns/{workbook.name}"]
    assert changed.sha256 == hashlib.sha256(b"other workbook").hexdigest()
    assert changed.file_id != before[f"towns/{workbook.name}"].file_id


def test_the_record_names_no_file_forgets_removed_ones_and_is_private(inbox: Path, tmp_path: Path,
                                                                     hashed: list[str]) -> None:
    record = tmp_path / "warehouse" / "inbox_sha256.json"
    discover(inbox, record)
    text = record.read_text(encoding="utf-8")
    assert ID_IN_NAME not in text and "统景镇" not in text and "inbox" not in text
    assert stat.S_IMODE(os.stat(record).st_mode) == 0o600
    assert len(json.loads(text)["files"]) == 2
    next((inbox / "registries").iterdir()).unlink()
    discover(inbox, record)
    assert len(json.loads(record.read_text(encoding="utf-8"))["files"]) == 1


@pytest.mark.parametrize("content", ["not json", '{"version": 1, "files": []}', '{"version": 0, "files": {}}', "[]"])
def test_an_unreadable_record_means_every_file_is_read(inbox: Path, tmp_path: Path, hashed: list[str],
                                                       content: str) -> None:
    record = tmp_path / "inbox_sha256.json"
    expected = [f.file_id for f in discover(inbox)]
    record.write_text(content, encoding="utf-8")
    hashed.clear()
    assert [f.file_id for f in discover(inbox, record)] == expected
    assert len(hashed) == 2
    assert json.loads(record.read_text(encoding="utf-8"))["version"] == 1  # written anew


def test_the_same_inbox_moved_elsewhere_is_read_again(inbox: Path, tmp_path: Path, hashed: list[str]) -> None:
    """Entries are keyed by the file's full path."""
    record = tmp_path / "inbox_sha256.json"
    discover(inbox, record)
    moved = tmp_path / "moved"
    inbox.rename(moved)
    hashed.clear()
    discover(moved, record)
    assert len(hashed) == 2


def test_a_file_changed_in_the_last_seconds_is_not_remembered(inbox: Path, tmp_path: Path) -> None:
    record = tmp_path / "inbox_sha256.json"
    discover(inbox, record)  # the fixture's files were written just now
    assert not record.exists() or json.loads(record.read_text(encoding="utf-8"))["files"] == {}
