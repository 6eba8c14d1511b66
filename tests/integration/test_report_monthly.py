"""The monthly report on real generated data: the Dagster asset writes the three files for a
month of the published database, and what they say equals the marts."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import dagster as dg
import duckdb
import openpyxl
import pytest
from pypdf import PdfReader

from pipelines.report.assets import REPORT_ASSETS, partition_month, report_dir
from pipelines.report.fmt import fmt_value, report_title
from pipelines.resources import WarehouseResource


@pytest.fixture(scope="module")
def published(refreshed_warehouse):
    return refreshed_warehouse


@pytest.fixture(scope="module")
def month(published):
    with duckdb.connect(str(published.published_db), read_only=True) as con:
        return con.execute("select max(month) from marts.kpi_district_monthly").fetchone()[0]


@pytest.fixture(scope="module")
def written(published, month) -> dict[str, Path]:
    """Materialise the month's partition of the report asset, as the schedule does."""
    warehouse = WarehouseResource(sources_dir=str(published.sources_dir),
                                  warehouse_dir=str(published.warehouse_dir), work_db=str(published.work_db))
    result = dg.materialize(REPORT_ASSETS, partition_key=f"{month:%Y-%m-%d}",
                            resources={"warehouse": warehouse}, raise_on_error=True)
    assert result.success
    out = report_dir(published, partition_month(f"{month:%Y-%m-%d}"))
    files = {path.suffix.lstrip("."): path for path in out.iterdir()}
    assert set(files) == {"html", "pdf", "xlsx"}
    return files


@pytest.fixture(scope="module")
def marts(published, month):
    with duckdb.connect(str(published.published_db), read_only=True) as con:
        overall = con.execute("""
            select k.name_zh, k.unit, d.value from marts.kpi_district_monthly as d
            join marts.dim_kpi as k using (kpi_id)
            where d.month = ? and d.target is not null order by kpi_id""", [month]).fetchall()
        towns = [r[0] for r in con.execute(
            "select distinct town_name from marts.kpi_town_monthly order by 1").fetchall()]
        town_coverage = dict(con.execute("""
            select town_name, value from marts.kpi_town_monthly
            where month = ? and kpi_id = 'K10_village_coverage'""", [month]).fetchall())
    return {"overall": overall, "towns": towns, "town_coverage": town_coverage}


def flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.mark.slow
def test_pdf_says_what_the_published_database_says(written, marts, month):
    text = flat("".join(page.extract_text() for page in PdfReader(written["pdf"]).pages))
    assert flat(report_title(month, "渝北区")) in text
    assert len(marts["towns"]) == 11 and all(town in text for town in marts["towns"])
    assert marts["overall"]
    for name, unit, value in marts["overall"]:
        assert flat(name) in text
        assert fmt_value(value, unit) in text, f"{name}: {fmt_value(value, unit)} not in the PDF"


@pytest.mark.slow
def test_pdf_fonts_are_embedded_cjk_fonts_and_page_one_renders(written, tmp_path):
    fonts = subprocess.run(["pdffonts", str(written["pdf"])], check=True, capture_output=True, text=True).stdout
    rows = [line.split() for line in fonts.splitlines()[2:]]
    assert rows and all("yes" == row[-5] for row in rows), fonts  # emb column
    assert not any("Type" == row[1] and row[2] == "3" for row in rows), fonts
    assert any("NotoSansCJKsc" in row[0] for row in rows), fonts
    subprocess.run(["pdftoppm", "-r", "50", "-png", "-f", "1", "-l", "1", str(written["pdf"]),
                    str(tmp_path / "page")], check=True)
    png = next(tmp_path.glob("page*.png"))
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000


@pytest.mark.slow
def test_xlsx_numbers_equal_the_marts(written, marts):
    book = openpyxl.load_workbook(written["xlsx"])
    overall = {row[1].value: row[3].value for row in book["总体进展"].iter_rows(min_row=4) if row[1].value}
    for name, unit, value in marts["overall"]:
        label = name if unit in ("%", None) else f"{name}（{unit}）"
        # The workbook keeps the mart value; the last bit may differ after the XLSX round trip.
        assert overall[label] == (pytest.approx(value, rel=1e-12) if value is not None else "—"), name
    towns = book["分镇街进展"]
    coverage = {row[1].value.rstrip("※"): row[5].value for row in towns.iter_rows(min_row=4) if row[1].value}
    assert coverage == {town: (v if v is not None else "—") for town, v in marts["town_coverage"].items()}


@pytest.mark.slow
def test_html_is_self_contained(written, marts):
    html = written["html"].read_text(encoding="utf-8")
    assert html.count("<svg") == 3 and "data:font/ttf;base64," in html
    assert 'src="http' not in html and "url(http" not in html and "<link" not in html
    assert all(town in html for town in marts["towns"])


@pytest.mark.slow
def test_early_warning_lists_the_marts_late_forecasts(written, published, month):
    with duckdb.connect(str(published.published_db), read_only=True) as con:
        late = con.execute("""
            select town_name, kpi_name_zh, projected_value from marts.kpi_forecast_monthly
            where month = ? and forecast_status = '预计逾期' order by kpi_id, town_code""", [month]).fetchall()
    sheet = openpyxl.load_workbook(written["xlsx"])["预警"]
    listed = [(row[0].value, row[1].value, row[6].value) for row in sheet.iter_rows(min_row=4)
              if row[1].value and row[0].value]
    assert listed == [(town, kpi, pytest.approx(projected, rel=1e-12)) for town, kpi, projected in late]
    text = flat("".join(page.extract_text() for page in PdfReader(written["pdf"]).pages))
    assert "六、预警" in text and flat("线性外推") in text
    assert all(flat(town) in text and flat(kpi) in text for town, kpi, _ in late)
