"""The progress site in a real browser: headless Chromium renders the overview and a town page
built from the session's refreshed warehouse; the figures in the rendered DOM are the marts'."""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pytest

from pipelines.report.fmt import fmt_count, fmt_value
from pipelines.report.pdf import find_chromium
from pipelines.site.data import SiteData

RURALCARE = str(Path(sys.executable).parent / "ruralcare")
TOWN = "500112018"  # 王家街道

# Personal data in any form: a full ID (18 characters) or any 15+ digit run, a mobile number,
# and the masked forms the feedback workbooks use (500112********647X, 王*, 欧阳**, 138****5678).
LEAK_PATTERNS = {
    "ID number": re.compile(r"(?<![0-9])[0-9]{17}[0-9Xx]|[0-9]{15,}"),
    "phone": re.compile(r"(?<![0-9])(?:\+?86)?1[3-9][0-9]{9}(?![0-9])"),
    "masked ID": re.compile(r"[0-9]{4,}\*{4,}[0-9Xx]*"),
    "masked name": re.compile(r"[\u4e00-\u9fff]\*{1,3}(?![\u4e00-\u9fff*])"),
    "masked phone": re.compile(r"1[3-9][0-9]\*{4}[0-9]{4}"),
}


@dataclass
class Row:
    key: str
    cells: dict[str, str] = field(default_factory=dict)  # first class of the cell → its text


class KpiRows(HTMLParser):
    """The rows of a table (by id) keyed by their data-kpi, each cell's text by its classes."""

    def __init__(self, table_id: str) -> None:
        super().__init__()
        self.table_id, self.inside, self.rows = table_id, False, {}
        self.row: Row | None = None
        self.cell: list[str] | None = None
        self.classes: list[str] = []
        self.texts: dict[str, str] = {}  # element id → text (e.g. the rank line)
        self.text_of: str | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        attributes = dict(attrs)
        if tag == "table":
            self.inside = attributes.get("id") == self.table_id
        elif self.inside and tag == "tr" and "data-kpi" in attributes:
            self.row = Row(attributes["data-kpi"])
        elif self.row is not None and tag == "td":
            self.cell, self.classes = [], (attributes.get("class") or "").split()
        if attributes.get("id") in ("town-rank",):
            self.text_of = attributes["id"]
            self.texts[self.text_of] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self.row is not None and self.cell is not None:
            for name in self.classes:
                self.row.cells.setdefault(name, "".join(self.cell).strip())
            self.cell = None
        elif tag == "tr" and self.row is not None:
            self.rows[self.row.key] = self.row
            self.row = None
        elif tag == "table":
            self.inside = False
        elif tag == "p":
            self.text_of = None

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)
        if self.text_of:
            self.texts[self.text_of] += data


def chromium(*args: str) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory(prefix="ruralcare-site-test-") as profile:
        return subprocess.run(
            [find_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
             "--no-first-run", "--disable-background-networking", "--disable-component-update",
             "--hide-scrollbars", "--window-size=1280,1800", f"--user-data-dir={profile}", *args],
            capture_output=True, text=True, timeout=120, check=False)


def render(page: Path, screenshot: Path) -> str:
    """The page's DOM after Chromium rendered it; a screenshot of it saved beside."""
    shot = chromium(f"--screenshot={screenshot}", page.as_uri())
    assert screenshot.exists() and screenshot.stat().st_size > 10_000, shot.stderr[-2000:]
    dumped = chromium("--dump-dom", page.as_uri())
    assert dumped.returncode == 0 and "</html>" in dumped.stdout, dumped.stderr[-2000:]
    return dumped.stdout


@dataclass(frozen=True)
class Site:
    root: Path
    published_db: Path
    shots: Path
    month: str


@pytest.fixture(scope="module")
def site(refreshed_warehouse, tmp_path_factory: pytest.TempPathFactory) -> Site:
    out = tmp_path_factory.mktemp("site_test")
    done = subprocess.run([RURALCARE, "site", "--warehouse", str(refreshed_warehouse.warehouse_dir),
                           "--out", str(out / "site")], capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"open {out / 'site' / 'index.html'}" in done.stderr
    with duckdb.connect(str(refreshed_warehouse.published_db), read_only=True) as con:
        month = con.execute("select strftime(max(month), '%Y-%m') from marts.kpi_town_monthly").fetchone()[0]
    print(f"site screenshots: {out / 'screenshots'}")
    (out / "screenshots").mkdir()
    return Site(out / "site", refreshed_warehouse.published_db, out / "screenshots", month)


def marts_rows(site: Site, sql: str, params: list) -> list[dict]:
    with duckdb.connect(str(site.published_db), read_only=True) as con:
        result = con.execute(sql, params)
        names = [d[0] for d in result.description]
        return [dict(zip(names, r)) for r in result.fetchall()]


def shown(row: dict, column: str) -> str:
    text = fmt_value(row[column], row["unit"])
    return text + ("※" if column == "value" and row["stale"] and row["value"] is not None else "")


def test_the_nightly_refresh_wrote_the_site(refreshed_warehouse) -> None:
    index = refreshed_warehouse.warehouse_dir.parent / "reports" / "site" / "index.html"
    assert index.is_file(), "the refresh's publish stage should write the progress site"


def test_demo_prints_where_the_site_is(refreshed_warehouse, capsys: pytest.CaptureFixture) -> None:
    from pipelines.cli import _print_where

    _print_where(refreshed_warehouse)
    index = refreshed_warehouse.warehouse_dir.parent / "reports" / "site" / "index.html"
    assert f"progress site    {index}" in capsys.readouterr().err


def test_overview_renders_the_district_figures(site: Site, generated_months) -> None:
    dom = render(site.root / site.month / "index.html", site.shots / "overview.png")
    parser = KpiRows("district-kpis")
    parser.feed(dom)
    expected = marts_rows(site, """
        select d.*, k.unit from marts.kpi_district_monthly as d join marts.dim_kpi as k using (kpi_id)
        where strftime(d.month, '%Y-%m') = ?""", [site.month])
    assert len(expected) == 30 and set(parser.rows) == {r["kpi_id"] for r in expected}
    for row in expected:
        assert parser.rows[row["kpi_id"]].cells["value"] == shown(row, "value"), row["kpi_id"]
    assert dom.count('<svg class="spark"') == sum(1 for r in expected if r["value"] is not None)
    assert 'id="month-picker"' in dom and dom.count("<option") == len(generated_months)


def test_town_page_renders_the_towns_figures_and_rank(site: Site) -> None:
    dom = render(site.root / site.month / "town" / f"{TOWN}.html", site.shots / f"town_{TOWN}.png")
    parser = KpiRows("town-kpis")
    parser.feed(dom)
    expected = marts_rows(site, """
        select t.*, k.unit from marts.kpi_town_monthly as t join marts.dim_kpi as k using (kpi_id)
        where t.town_code = ? and strftime(t.month, '%Y-%m') = ?""", [TOWN, site.month])
    assert len(expected) == 30 and set(parser.rows) == {r["kpi_id"] for r in expected}
    for row in expected:
        cells = parser.rows[row["kpi_id"]].cells
        assert cells["value"] == shown(row, "value"), row["kpi_id"]
        assert cells["target"] == (shown(row, "target") if row["target"] is not None else "—"), row["kpi_id"]
        assert cells["rank"] == (fmt_count(row["rank"]) if row["rank"] is not None else "—"), row["kpi_id"]
    (rank,) = marts_rows(site, "select overall_rank from marts.town_rank_monthly "
                               "where town_code = ? and strftime(month, '%Y-%m') = ?", [TOWN, site.month])
    assert re.match(rf"综合排名：{rank['overall_rank']} / 11", parser.texts["town-rank"]), parser.texts["town-rank"]


def test_the_month_picker_and_refresh_time_are_drawn_in_the_browser(site: Site) -> None:
    """site-nav.js draws a members page's picker: every month, newest first, linking the same
    page where that month has it and the month's overview where not; and the footer's time."""
    kpi_id = "K14_one_to_one_pairing"
    dom = render(site.root / site.month / "town" / TOWN / f"{kpi_id}.html", site.shots / "members_picker.png")
    options = re.findall(r'<option value="([^"]+)"( selected(?:="")?)?>([^<]+)</option>', dom)
    months = sorted((p.name for p in site.root.iterdir() if re.fullmatch(r"\d{4}-\d{2}", p.name)), reverse=True)
    assert [label for *_, label in options] == [f"{m[:4]}年{int(m[5:])}月" for m in months]
    for (href, _, _), month in zip(options, months):
        has_page = (site.root / month / "town" / TOWN / f"{kpi_id}.html").exists()
        assert href == (f"../../../{month}/town/{TOWN}/{kpi_id}.html" if has_page else f"../../../{month}/index.html")
    assert [month for (_, selected, _), month in zip(options, months) if selected] == [site.month]
    assert "‹ 上月" in dom and "下月 ›" not in dom  # the latest month has no next month
    footer = re.search(r"数据更新于 (.*?)。</footer>", dom).group(1)
    assert re.fullmatch(r'<span class="refreshed-at">\d{4}-\d{2}-\d{2} \d{2}:\d{2}</span>', footer), footer


@pytest.mark.parametrize("kpi_id", ["K09_village_points_built", "K14_one_to_one_pairing"])
def test_a_kpis_members_add_up_to_its_figures(site: Site, kpi_id: str) -> None:
    """Villages one by one (K09), key persons counted by village (K14): the members page adds up
    to the numerator and, for a rate, the denominator of the mart."""
    html = (site.root / site.month / "town" / TOWN / f"{kpi_id}.html").read_text(encoding="utf-8")
    counted, not_counted = 0, 0
    for row in re.findall(r"<tr class=\"(?:not-)?counted\">(.*?)</tr>", html, flags=re.S):
        members = re.search(r'<td class="num">(\d+)</td>', row)  # persons: a village's count
        number = int(members.group(1)) if members and kpi_id == "K14_one_to_one_pairing" else 1
        if ">计入</td>" in row:
            counted += number
        else:
            not_counted += number
    (kpi,) = marts_rows(site, "select numerator, denominator from marts.kpi_town_monthly where town_code = ? "
                              "and kpi_id = ? and strftime(month, '%Y-%m') = ?", [TOWN, kpi_id, site.month])
    assert counted == kpi["numerator"]
    if kpi["denominator"] is not None:
        assert counted + not_counted == kpi["denominator"]
        assert not_counted > 0, "the generated town has unpaired key persons"


def test_no_personal_data_in_any_page(site: Site) -> None:
    keys = {r["person_key"] for r in marts_rows(
        site, "select distinct person_key from quality.unpaired_key_persons", [])}
    assert keys, "the generated district has unpaired key persons"
    files = [p for p in site.root.rglob("*") if p.is_file()]
    assert len(files) > 200
    for path in files:
        text = path.read_text(encoding="utf-8")
        for what, pattern in LEAK_PATTERNS.items():
            found = pattern.search(text)
            assert not found, f"{path}: {what} pattern {found.group()[:6]}…"
        assert not any(key in text for key in keys), f"{path}: a person_key"


def test_pages_written_by_worker_processes_are_the_pages_one_process_writes(
    refreshed_warehouse, generated_months, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A site of ≥ 2,000 pages is written by a process per core (pipelines/site/build.py)."""
    from pipelines.site import build
    from pipelines.status import collect_status

    status = collect_status(refreshed_warehouse)
    monkeypatch.setattr(build, "site_workers", lambda pages: 1)
    alone = build.build_site(refreshed_warehouse.published_db, tmp_path / "alone", status=status)
    monkeypatch.setattr(build, "site_workers", lambda pages: 2)
    pooled = build.build_site(refreshed_warehouse.published_db, tmp_path / "pooled", status=status)
    # a city's way: a round of workers per month, each forked with that month's member rows only
    held: list[set] = []
    read_only = SiteData.read_members_only

    def recording(data: SiteData, months) -> None:
        read_only(data, months)
        held.append(set(data._member_months))

    monkeypatch.setattr(SiteData, "read_members_only", recording)
    monkeypatch.setattr(build, "MEMBER_PAGES_PER_ROUND", 1)
    in_rounds = build.build_site(refreshed_warehouse.published_db, tmp_path / "rounds", status=status)

    assert [p.relative_to(tmp_path / "pooled") for p in pooled] == [p.relative_to(tmp_path / "alone") for p in alone]
    assert [p.relative_to(tmp_path / "rounds") for p in in_rounds] == [p.relative_to(tmp_path / "alone") for p in alone]
    assert len(alone) > build.PAGES_PER_TASK  # more than one task
    assert len(held) == len(generated_months) and all(len(months) == 1 for months in held)
    for one, other, third in zip(alone, pooled, in_rounds):
        assert other.read_bytes() == one.read_bytes(), other.name
        assert third.read_bytes() == one.read_bytes(), third.name
