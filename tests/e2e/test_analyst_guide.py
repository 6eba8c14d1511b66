"""Every query of the analyst guide runs on the published database, in the duckdb shell too."""

import re
import subprocess
import sys
from pathlib import Path

import duckdb

GUIDE = Path(__file__).parent.parent.parent / "docs" / "analysts.md"


def guide_queries() -> list[str]:
    return re.findall(r"```sql\n(.*?)```", GUIDE.read_text(encoding="utf-8"), flags=re.S)


def test_guide_has_its_queries() -> None:
    assert len(guide_queries()) >= 6


def test_every_guide_query_answers(refreshed_warehouse) -> None:
    """Each query runs on the real tables; some may rightly find nothing (统景镇 fully covered)."""
    con = duckdb.connect(str(refreshed_warehouse.published_db), read_only=True)
    try:
        answers = [con.execute(sql).fetchall() for sql in guide_queries()]
    finally:
        con.close()
    points_by_town = answers[1]
    assert len(points_by_town) == 11 and [row[5] for row in points_by_town] == list(range(1, 12))
    assert sum(len(rows) for rows in answers) > 11


def test_duckdb_shell_opens_the_published_file(refreshed_warehouse) -> None:
    shell = Path(sys.executable).parent / "duckdb"
    done = subprocess.run(
        [str(shell), "-readonly", str(refreshed_warehouse.published_db), "-csv", "-c",
         "select count(*) from marts.dim_town where is_rural_scope"],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "11"
