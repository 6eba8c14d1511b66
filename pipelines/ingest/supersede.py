"""Supersession: of the loaded workbooks of one town and month only the latest counts."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime


@dataclass(frozen=True)
class Submission:
    """A loaded town workbook as supersession sees it."""

    file_id: str
    town_code: str
    month: date
    submission_date: date
    modified_at: datetime
    file_name: str

    @property
    def recency(self) -> tuple[date, datetime, str]:
        return self.submission_date, self.modified_at, self.file_name


def superseded(existing: Sequence[Submission], new: Sequence[Submission]) -> frozenset[str]:
    """The file ids that a later workbook for the same town and month replaces.

    Later means a later submission date (填报日期, else the file's date), then a later file
    mtime, then a later file name; between equals the one loaded before stays.
    """
    by_town_month: dict[tuple[str, date], list[Submission]] = defaultdict(list)
    for submission in [*existing, *new]:
        by_town_month[(submission.town_code, submission.month)].append(submission)
    replaced: set[str] = set()
    for group in by_town_month.values():
        latest = max(group, key=lambda s: s.recency)  # the first of equals
        replaced.update(s.file_id for s in group if s is not latest)
    return frozenset(replaced)
