"""The `ruralcare` command as a clerk runs it."""

import subprocess
import sys
from pathlib import Path

import duckdb

RURALCARE = str(Path(sys.executable).parent / "ruralcare")


def run(*args: str, timeout: int = 900) -> subprocess.CompletedProcess:
    return subprocess.run([RURALCARE, *args], capture_output=True, text=True, timeout=timeout, check=False)


def test_help_lists_the_working_commands() -> None:
    done = run("--help")
    assert done.returncode == 0
    for command in ("demo", "refresh", "report", "feedback", "templates", "generate", "ui", "docs"):
        assert command in done.stdout


def test_refresh_rejects_a_missing_divisions_file(tmp_path: Path) -> None:
    done = run("refresh", "--warehouse", str(tmp_path), "--divisions", str(tmp_path / "nope.csv"))
    assert done.returncode == 2
    assert "nope.csv" in done.stderr


def test_templates_writes_one_workbook_per_town(tmp_path: Path) -> None:
    done = run("templates", "--out", str(tmp_path), "--month", "2022-06")
    assert done.returncode == 0, done.stderr
    names = sorted(p.name for p in tmp_path.glob("*.xlsx"))
    assert len(names) == 11
    assert "统景镇_2022年06月_农村养老服务全覆盖进度表.xlsx" in names


def test_templates_explains_a_bad_month(tmp_path: Path) -> None:
    done = run("templates", "--out", str(tmp_path), "--month", "2022-13")
    assert done.returncode == 2
    assert "YYYY-MM" in done.stderr


def test_strict_refresh_fails_on_a_rejected_file_and_names_it(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    (inbox / "towns").mkdir(parents=True)
    (inbox / "registries").mkdir()
    (inbox / "towns" / "统景镇_2022年06月_农村养老服务全覆盖进度表.xlsx").write_bytes(b"")
    done = run("refresh", "--strict", "--sources", str(inbox), "--warehouse", str(tmp_path / "wh"))
    assert done.returncode == 1, done.stderr[-2000:]
    assert "1 file(s) rejected" in done.stderr
    assert "统景镇_2022年06月_农村养老服务全覆盖进度表.xlsx" in done.stderr
    assert (inbox / "rejected").exists()


def test_docs_generates_the_dbt_site(refreshed_warehouse) -> None:
    done = run("docs", "--warehouse", str(refreshed_warehouse.warehouse_dir))
    assert done.returncode == 0, done.stderr[-2000:]
    index = Path(done.stderr.split("dbt docs: ")[1].split()[0])
    assert index.name == "index.html" and index.exists()
    catalog = index.parent / "catalog.json"
    assert "kpi_town_monthly" in catalog.read_text(encoding="utf-8")
