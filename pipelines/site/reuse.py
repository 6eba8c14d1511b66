"""Which months of the last site build can be kept: a new month draws its own pages only.

A page of month M shows the figures of M and of the months before it (the change column, the
sparklines); what changes with later months and refreshes — the month picker, the link to the
next month and the footer's refresh time — is drawn in the browser by site-nav.js
(reports/templates/site/chrome.html.j2), so the page's bytes depend on those figures alone. A
month's pages are kept (linked from the earlier build) when a fingerprint of what they show is
the one the last build recorded beside them: the site's code and templates, the KPI and town
lists, and every figure of the months up to M. A late re-submission for an old month changes the
fingerprints of that month and of every later one; a changed template or catalogue, all of them.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date
from pathlib import Path

import duckdb

from pipelines.settings import PROJECT_ROOT
from pipelines.site.data import SiteData
from pipelines.tables import contents_by_part, has_table

# Beside the pages, in the site's folder: {"months": {"2022-12": fingerprint, …}}.
FINGERPRINTS_FILE = ".ruralcare-site-months.json"
# What draws a page besides its data: a change to any of these redraws every month.
_DRAWING_SOURCES = (
    PROJECT_ROOT / "reports" / "templates" / "site",
    PROJECT_ROOT / "pipelines" / "site",
    PROJECT_ROOT / "pipelines" / "report" / "content.py",
    PROJECT_ROOT / "pipelines" / "report" / "fmt.py",
    PROJECT_ROOT / "pipelines" / "report" / "labels.py",
    PROJECT_ROOT / "pipelines" / "report" / "data.py",
)


def drawing_fingerprint() -> str:
    """A hash of the site's templates and of the code that turns figures into pages."""
    digest = hashlib.sha256()
    for source in _DRAWING_SOURCES:
        files = sorted(source.rglob("*")) if source.is_dir() else [source]
        for path in files:
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(path.relative_to(PROJECT_ROOT).as_posix().encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()


# The published tables a month's pages are drawn from (pipelines/site/data.py), all by month.
SHOWN_TABLES = (
    ("marts", "kpi_district_monthly"), ("marts", "kpi_city_monthly"), ("marts", "kpi_town_monthly"),
    ("marts", "town_rank_monthly"), ("marts", "kpi_members"), ("marts", "kpi_forecast_monthly"),
    ("quality", "findings"),
)


def published_month_contents(published_db: Path) -> dict[date, tuple]:
    """Month → (table, rows, sum of the rows' hashes) of every table the site shows: what a month's
    rows are, whatever order a build left them in, summed by DuckDB (a city's 9 M rows in a
    fraction of a second, where hashing the loaded rows in Python took 1.9 s)."""
    contents: dict[date, list] = defaultdict(list)
    with duckdb.connect(str(published_db), read_only=True) as con:
        for schema, table in SHOWN_TABLES:
            if not has_table(con, schema, table):
                continue
            for month, (rows, hashed) in contents_by_part(con, f"{schema}.{table}").items():
                contents[month].append((table, rows, hashed))
    return {month: tuple(sorted(found)) for month, found in contents.items()}


def month_fingerprints(data: SiteData, contents: Mapping[date, tuple], drawing: str,
                       extra: Iterable[object] = ()) -> dict[str, str]:
    """Month (YYYY-MM-DD) → a hash of what its pages show: `drawing`, `extra` (what every page
    shows alike, such as the status legend), the KPI and town lists and the published rows
    (`published_month_contents`) of every month up to this one."""
    running = _hash(repr((drawing, list(extra), data.kpis, data.towns, not data.members_published,
                          data.forecasts is None)))
    fingerprints = {}
    for month in data.months:
        running = _hash(repr((running, month, contents.get(month))))
        fingerprints[month.isoformat()] = running
    return fingerprints


def _hash(text: str) -> str:
    # Base32, not hex: the site's folder holds no long run of digits that a privacy scan would
    # take for an ID or phone number.
    return base64.b32encode(hashlib.sha256(text.encode()).digest()).decode().rstrip("=").lower()


def recorded_fingerprints(site: Path) -> dict[str, str]:
    """The fingerprints the build in `site` recorded; none when it recorded none or is unreadable."""
    try:
        recorded = json.loads((site / FINGERPRINTS_FILE).read_text(encoding="utf-8"))["months"]
    except (OSError, ValueError, KeyError, TypeError):
        return {}
    return recorded if isinstance(recorded, dict) else {}


def record_fingerprints(site: Path, fingerprints: Mapping[str, str]) -> None:
    (site / FINGERPRINTS_FILE).write_text(json.dumps({"months": dict(fingerprints)}, indent=1) + "\n",
                                          encoding="utf-8")


def months_to_keep(previous: Mapping[str, str], now: Mapping[str, str]) -> set[date]:
    """The months whose pages the last build drew from the same figures with the same code."""
    return {date.fromisoformat(month) for month, fingerprint in now.items() if previous.get(month) == fingerprint}
