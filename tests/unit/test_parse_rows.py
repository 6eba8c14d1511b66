"""parse_rows parses a column of few distinct texts once per text (pipelines/ingest/parse.py): the
rows must come out exactly as when every cell is parsed in place, in their order, nulls included."""

from datetime import date
from pathlib import Path

import polars as pl
from polars.testing import assert_frame_equal

from pipelines.contract import load_contract
from pipelines.ingest.divisions import Divisions
from pipelines.ingest import parse
from pipelines.ingest.parse import PARSED_PER_DISTINCT_TEXT, multiplier_columns, parse_rows
from pipelines.ingest.registry import read_csv_chunks
from pipelines.settings import BUILTIN_DIVISIONS

CONTRACT = load_contract()
DIVISIONS = Divisions.load(BUILTIN_DIVISIONS)
HEADER = "姓名,公民身份号码,性别,出生日期,镇街,村社区,供养方式,生活自理能力,供养机构,年基本生活标准（元）,人员状态"
ROWS = [
    '张*,="11010519491231002X",女,1949-12-31,统景镇,前锋村,集中供养,具备生活自理能力,红竹敬老院,"12,000",正常',
    '李*,110105194912310021,男,1949/12/31,统景镇,前锋村委会,分散供养,完全丧失,,"1.2万",正常',
    '王*,,男,,统景镇,前锋,集中供养,具备生活自理能力,红竹敬老院,12000,正常',
    '赵*,1.10105E+17,女,194912,大湾镇,不存在村,分散 供养,部分丧失,,无,死亡',
    '钱*,110105194912310021,女,1949-12-31,统景镇,前锋村,集中供养,具备生活自理能力,红竹敬老院,"12,000",正常',
    '孙*,110105194912310021,,18263,统景镇,,集中供养,#N/A,,12000,正常',
]


def tekun_rows(tmp_path: Path) -> pl.DataFrame:
    source = CONTRACT.registries["tekun"]
    path = tmp_path / "特困人员名册_20221230.csv"
    path.write_text("\n".join([HEADER, *ROWS]) + "\n", encoding="utf-8")
    header, chunks = read_csv_chunks(path, source, CONTRACT)
    frame = pl.concat(list(chunks))
    export = date(2022, 12, 30)
    return frame.with_columns(
        file_id=pl.lit("f1"), refresh_id=pl.lit("r1"), export_date=pl.lit(export, pl.Date),
        town_code=pl.lit(None, pl.String), _as_of=pl.lit(export, pl.Date), **multiplier_columns(source, header.units),
    )


def test_parsing_once_per_distinct_text_equals_parsing_every_cell(tmp_path, monkeypatch):
    source = CONTRACT.registries["tekun"]
    assert any(column.type in PARSED_PER_DISTINCT_TEXT for column in source.columns)
    frame = tekun_rows(tmp_path).with_columns(  # a cell a workbook leaves empty arrives as null
        birth_date_raw=pl.when(pl.col("row_number") == 4).then(None).otherwise(pl.col("birth_date_raw")))
    monkeypatch.setattr(parse, "DISTINCT_SHARE_FOR_TEXT", 0)  # free text too, however few repeats
    per_distinct = parse_rows(frame, source, CONTRACT, DIVISIONS, b"key")
    monkeypatch.setattr(parse, "PARSED_PER_DISTINCT_TEXT", frozenset())
    monkeypatch.setattr(parse, "DISTINCT_SHARE_FOR_TEXT", 10**9)
    in_place = parse_rows(frame, source, CONTRACT, DIVISIONS, b"key")
    assert per_distinct.height == len(ROWS)
    assert_frame_equal(per_distinct, in_place.select(per_distinct.columns))
    assert per_distinct["row_number"].to_list() == frame["row_number"].to_list()
    assert per_distinct["birth_date"].to_list()[:3] == [date(1949, 12, 31), date(1949, 12, 31), None]
    assert per_distinct["_given_birth_date"].to_list()[2] is False
