"""What a person watching a refresh sees of the loading: files n/N, and inside a large registry
export its rows read so far (a city's exports take half a minute each between two file lines)."""

from pipelines import progress
from pipelines.ingest.assets import ROWS_LOGGED_EVERY, IngestProgress


def watched(events: list[tuple[str, int, int]]) -> tuple[list[str], list[tuple[str, int, int]]]:
    """(the run's log lines, what the CLI's bar was told) for the loader's progress calls."""
    log: list[str] = []
    bar: list[tuple[str, int, int]] = []
    on_progress = IngestProgress(log.append)
    with progress.listening(lambda *event: bar.append(event)):
        for event in events:
            on_progress(*event)
    return log, bar


def rows(name: str, count: int) -> tuple[str, int, int]:
    return f"{name}: {count:,} rows read", count, 0


def test_a_large_export_logs_its_rows_every_million_and_the_bar_keeps_the_file_count():
    elderly = "农村老年人信息库_20221230.csv"
    log, bar = watched([
        ("registries/" + elderly, 1, 20),
        *(rows(elderly, n) for n in (400_000, 800_000, 1_200_000, 1_900_000, 2_300_000, 2_995_809)),
        ("registries/低保对象名册_20221230.csv", 2, 20),
        rows("低保对象名册_20221230.csv", 161_721),
        ("towns/a.xlsx", 3, 20),
        ("towns/b.xlsx", 4, 20),
    ])
    assert ROWS_LOGGED_EVERY == 1_000_000
    assert log == [
        f"{elderly}: 1,200,000 rows read",
        f"{elderly}: 2,300,000 rows read",
        "file 2/20: registries/低保对象名册_20221230.csv",
        "file 4/20: towns/b.xlsx",
    ]
    assert bar[0] == ("files", 1, 20)
    assert bar[3] == (f"files ({elderly}: 1,200,000 rows read)", 1, 20)
    assert bar[-3] == ("files (低保对象名册_20221230.csv: 161,721 rows read)", 2, 20)
    assert bar[-1] == ("files", 4, 20)


def test_the_next_export_counts_its_own_millions():
    log, _ = watched([
        ("registries/a.csv", 1, 2), rows("a.csv", 900_000),
        ("registries/b.csv", 2, 2), rows("b.csv", 900_000), rows("b.csv", 1_000_000),
    ])
    assert log == ["file 1/2: registries/a.csv", "file 2/2: registries/b.csv", "b.csv: 1,000,000 rows read"]
