"""Discover: what the raw layer already holds, and which inbox files are new."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipelines.ingest.inbox import InboxFile, discover
from pipelines.ingest.results import Original
from pipelines.ingest.supersede import Submission


@dataclass(frozen=True)
class KnownFiles:
    file_ids: frozenset[str]  # every file recorded before, whatever its status
    originals: Mapping[str, Original]  # sha256 of loaded (or since superseded) files -> what a copy shares
    workbooks: tuple[Submission, ...]  # loaded town workbooks, which a new one may supersede


def known_files(con: duckdb.DuckDBPyConnection) -> KnownFiles:
    file_ids = frozenset(r[0] for r in con.execute("SELECT file_id FROM raw.files").fetchall())
    # Of several loaded files with the same bytes the earliest (mtime, then name) is the original:
    # rows come latest first and a later row overwrites an earlier one.
    originals = {
        sha: Original(town, month, submitted) for sha, town, month, submitted in con.execute(
            "SELECT sha256, town_code, month, submission_date FROM raw.files "
            "WHERE status IN ('loaded', 'superseded') ORDER BY modified_at DESC, file_name DESC").fetchall()
    }
    workbooks = tuple(Submission(*row) for row in con.execute(
        "SELECT file_id, town_code, month, submission_date, modified_at, file_name FROM raw.files "
        "WHERE kind = 'town_workbook' AND status = 'loaded'").fetchall())
    return KnownFiles(file_ids, originals, workbooks)


def new_inbox_files(sources_dir: Path, known: KnownFiles, remembered_hashes: Path | None = None) -> list[InboxFile]:
    """The inbox files not recorded before, oldest first (mtime, name, path): of two copies of
    the same bytes the first is loaded, the second is its duplicate. `remembered_hashes`: the
    warehouse's record of the files' SHA-256 (`Settings.inbox_hashes_file`)."""
    fresh = [f for f in discover(sources_dir, remembered_hashes) if f.file_id not in known.file_ids]
    return sorted(fresh, key=lambda f: (f.modified_at, f.file_name, f.relative_path))
