"""What is published: a rebuild with nothing new publishes the same tables, the person lists are
de-identified, and the publishing guard refuses masked names and ID numbers."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import duckdb
import pytest

from pipelines.publish import database
from pipelines.publish.database import PrivacyViolation, publish_analyst_copy
from pipelines.refresh import run_refresh
from pipelines.resources import WarehouseResource


def published_tables(path: Path) -> dict[str, list[tuple]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = con.sql(
            "select schema_name, table_name from duckdb_tables() where schema_name <> 'meta' order by 1, 2"
        ).fetchall()
        return {
            f"{schema}.{table}": sorted(con.sql(f'select * from {schema}."{table}"').fetchall(), key=repr)
            for schema, table in tables
        }
    finally:
        con.close()


def test_refresh_twice_gives_identical_published_tables(refreshed_warehouse) -> None:
    settings = refreshed_warehouse
    first = published_tables(settings.published_db)
    warehouse = WarehouseResource(sources_dir=str(settings.sources_dir), warehouse_dir=str(settings.warehouse_dir),
                                  work_db=str(settings.work_db))
    assert run_refresh(warehouse, rebuild=True).success
    second = published_tables(settings.published_db)
    assert first.keys() == second.keys()
    for name in first:
        assert first[name] == second[name], f"{name} changed on a refresh with no new files"


# --- the analyst copy is de-identified (minimum necessary) ---------------------------------------

# The masks of the quality models, each as a whole cell: ID 500112********1234 (or all stars when
# short), name 张* / 欧阳**, phone 138****1234.
WHOLE_MASK = r"^\s*(\*+|[0-9A-Za-z]{6}\*{8}[0-9A-Za-z]{4}|\p{Han}{1,2}\*+|[0-9]{3}\*{4}[0-9]{4})\s*$"
UNPAIRED_PUBLISHED_COLUMNS = ["month", "town_code", "village_code", "village_name", "person_key", "age_band", "registry"]


def test_published_person_lists_are_de_identified(refreshed_warehouse) -> None:
    settings = refreshed_warehouse
    con = duckdb.connect(str(settings.published_db), read_only=True)
    try:
        con.execute(f"ATTACH '{settings.work_db}' AS work (READ_ONLY)")
        columns = [c for (c,) in con.execute(
            "select column_name from duckdb_columns() where database_name = 'ruralcare' "
            "and schema_name = 'quality' and table_name = 'unpaired_key_persons' order by column_index").fetchall()]
        assert columns == UNPAIRED_PUBLISHED_COLUMNS

        (listed,) = con.execute("select count(*) from quality.unpaired_key_persons").fetchone()
        (working,) = con.execute("select count(*) from work.quality.unpaired_key_persons").fetchone()
        (as_in_fact,) = con.execute("""
            select count(*) from quality.unpaired_key_persons as u
            inner join marts.fct_person_monthly as p
                on p.person_key = u.person_key and p.month = u.month and p.town_code = u.town_code
                and p.village_code = u.village_code and p.age_band = u.age_band
            where p.is_key_group and not p.is_paired_one_to_one""").fetchone()
        assert listed == working > 0
        assert as_in_fact == listed, "each listed person is as in marts.fct_person_monthly"

        published = con.execute(
            "select schema_name, table_name, column_name, data_type from duckdb_columns() "
            "where database_name = 'ruralcare' and schema_name in ('marts', 'quality', 'meta')").fetchall()
        tables = {f"{schema}.{table}" for schema, table, _, _ in published}
        assert not {t for t in tables if re.fullmatch(r"quality\.dq\d\d_.*", t)}, \
            "the per-rule tables repeat quality.findings' rows; analysts read quality.findings"
        assert {f"{s}.{t}" for s, t, c, _ in published if c == "row_number"} == {"quality.findings"}, \
            "only a finding points at a row of a source file"
        assert not [c for _, _, c, _ in published if re.search(r"masked|^age$|birth", c)]
        holding_masks = []
        for schema, table, column, data_type in published:
            if data_type == "VARCHAR" and (schema, table, column) != ("quality", "findings", "value"):
                (hits,) = con.execute(f'select count(*) from {schema}."{table}" where regexp_matches("{column}", ?)',
                                      [WHOLE_MASK]).fetchone()
                if hits:
                    holding_masks.append(f"{schema}.{table}.{column}: {hits}")
        assert not holding_masks, "masked names/IDs outside quality.findings.value"

        # quality.findings.value keeps pointing at its cell: every masked value of the working copy.
        def masked_values(findings: str) -> list[tuple]:
            return sorted(con.execute(f"select rule_id, source_file, row_number, value from {findings} "
                                      "where regexp_matches(value, ?)", [WHOLE_MASK]).fetchall(), key=repr)

        kept = masked_values("quality.findings")
        assert kept == masked_values("work.quality.findings")
        assert {rule for rule, *_ in kept} >= {"DQ06_key_person_unpaired"}
        (named,) = con.execute("select count(*) from quality.findings where rule_id = 'DQ06_key_person_unpaired' "
                               "and regexp_matches(replace(message_zh, value, ''), '\\p{Han}\\*')").fetchone()
        assert named == 0, "a DQ06 message names the person (masked)"
    finally:
        con.close()


def working_db(tmp_path: Path, table: str, columns: dict[str, list[str]]) -> duckdb.DuckDBPyConnection:
    """A working database holding one text table, e.g. quality.person_list."""
    work = duckdb.connect(str(tmp_path / "work.duckdb"))
    schema, name = table.split(".")
    work.execute(f"create schema {schema}")
    work.execute(f'create table {table} ({", ".join(f""""{c}" varchar""" for c in columns)})')
    work.executemany(f"insert into {table} values ({', '.join('?' for _ in columns)})", list(zip(*columns.values())))
    return work


@pytest.mark.parametrize("table, column, values", [
    ("quality.person_list", "name_masked", ["张*", "欧阳**"]),
    ("quality.person_list", "id_masked", ["500112********1234", "*********"]),
    ("quality.person_list", "holder", ["张*", "李**"]),  # found by what it holds, whatever its name
    ("quality.person_list", "reference", ["500112********123X", "500112********1234"]),
    ("marts.contacts", "contact", ["138****5678", "139****0000"]),
    ("quality.findings", "message_note", ["欧阳**", "王*"]),  # the exception is findings.value only
    ("quality.rule_examples", "value", ["500112********1234", "500112********5678"]),
])
def test_guard_refuses_masked_names_and_ids(tmp_path: Path, table: str, column: str, values: list[str]) -> None:
    work = working_db(tmp_path, table, {"village_name": ["龙安村"] * len(values), column: values})
    published = tmp_path / "ruralcare.duckdb"
    try:
        with pytest.raises(PrivacyViolation, match=re.escape(f"{table}.{column}")):
            publish_analyst_copy(work, published, "r1")
    finally:
        work.close()
    assert not published.exists() and not list(tmp_path.glob(".ruralcare.duckdb.*"))


def test_findings_value_keeps_its_masked_value(tmp_path: Path) -> None:
    values = ["500112********1234", "张*", "138****5678", "25000元"]
    work = working_db(tmp_path, "quality.findings", {"rule_id": ["DQ05_pairing_unknown_person"] * 4, "value": values})
    try:
        publish_analyst_copy(work, tmp_path / "ruralcare.duckdb", "r1")
    finally:
        work.close()
    con = duckdb.connect(str(tmp_path / "ruralcare.duckdb"), read_only=True)
    try:
        assert sorted(v for (v,) in con.execute("select value from quality.findings").fetchall()) == sorted(values)
    finally:
        con.close()


def facts_db(path: Path, months: dict[str, int]) -> duckdb.DuckDBPyConnection:
    """A working database with a monthly table (a row per town and month) and a table without months."""
    work = duckdb.connect(str(path))
    work.execute("create schema marts")
    work.execute("create table marts.facts (month date, town_code varchar, value integer)")
    for month, value in months.items():
        work.execute("insert into marts.facts select ?::date, 'T' || range, ? from range(1000)", [month, value])
    work.execute("create table marts.dims as select 'T1' as town_code, '甲镇' as town_name")
    return work


class Recording:
    """A working-database connection that notes each statement and its parameters."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con, self.statements = con, []

    def execute(self, sql: str, *parameters):
        self.statements.append((sql, *parameters))
        return self.con.execute(sql, *parameters)


def test_the_next_publish_writes_the_changed_months_only_and_equals_a_copy_from_nothing(tmp_path: Path) -> None:
    published = tmp_path / "ruralcare.duckdb"
    work = facts_db(tmp_path / "work.duckdb", {"2022-10-01": 1, "2022-11-01": 2})
    try:
        publish_analyst_copy(work, published, "r1")
        work.execute("update marts.facts set value = 20 where month = '2022-11-01'")
        work.execute("insert into marts.facts select '2022-12-01', 'T' || range, 3 from range(1000)")
        work.execute("update marts.dims set town_name = '乙镇'")
        recording = Recording(work)
        publish_analyst_copy(recording, published, "r2")
        publish_analyst_copy(work, tmp_path / "fresh.duckdb", "r3")
    finally:
        work.close()

    assert published_tables(published) == published_tables(tmp_path / "fresh.duckdb")
    writes = [(sql.split(" where ")[0], *parameters) for sql, *parameters in recording.statements
              if sql.lower().startswith(("delete", "insert", "create table")) and "analyst_copy" in sql]
    assert writes == [
        ('delete from analyst_copy.marts."dims"',),
        ('insert into analyst_copy.marts."dims" select * from (select * from marts."dims")',),
        ('delete from analyst_copy.marts."facts" as t', ([date(2022, 11, 1), date(2022, 12, 1)], False)),
        ('insert into analyst_copy.marts."facts" select * from (select * from marts."facts") as t',
         ([date(2022, 11, 1), date(2022, 12, 1)], False)),
    ]
    assert not list(tmp_path.glob(".ruralcare.duckdb.*"))


def test_a_published_file_of_another_shape_or_unreadable_is_replaced_by_a_copy_from_nothing(tmp_path: Path) -> None:
    published = tmp_path / "ruralcare.duckdb"
    published.write_bytes(b"not a database")
    work = facts_db(tmp_path / "work.duckdb", {"2022-11-01": 2})
    try:
        publish_analyst_copy(work, published, "r1")
        work.execute("alter table marts.facts add column note varchar default '新'")
        publish_analyst_copy(work, published, "r2")
        publish_analyst_copy(work, tmp_path / "fresh.duckdb", "r3")
    finally:
        work.close()
    assert published_tables(published) == published_tables(tmp_path / "fresh.duckdb")
    assert published_tables(published)["marts.facts"][0][-1] == "新"


def test_the_next_publish_checks_the_values_of_the_rows_it_writes_and_refuses_a_leak_among_them(
        tmp_path: Path) -> None:
    published = tmp_path / "ruralcare.duckdb"
    work = facts_db(tmp_path / "work.duckdb", {"2022-10-01": 1, "2022-11-01": 2})
    try:
        publish_analyst_copy(work, published, "r1")
        before = published_tables(published)
        work.execute("insert into marts.facts values ('2022-12-01', 'T1', 3), ('2022-12-01', '13812345678', 3)")
        with pytest.raises(PrivacyViolation, match=r"marts\.facts\.town_code holds 1 distinct value"):
            publish_analyst_copy(work, published, "r2")
        assert published_tables(published) == before

        work.execute("update marts.facts set town_code = 'T2' where town_code = '13812345678'")
        recording = Recording(work)
        publish_analyst_copy(recording, published, "r3")
    finally:
        work.close()
    checks = [(sql.split(" from ")[-1], parameters[2:]) for sql, parameters in
              (statement for statement in recording.statements if "regexp_matches" in statement[0])]
    # The new month's text column only: the earlier months and the unchanged table were checked before.
    assert checks == [('analyst_copy.marts."facts" as t where (list_contains(?::DATE[], t.month) or '
                       '(t.month is null and ?)))', [[date(2022, 12, 1)], False])]


def test_rows_kept_from_a_file_checked_by_other_rules_are_checked_again(tmp_path: Path, monkeypatch) -> None:
    published = tmp_path / "ruralcare.duckdb"
    work = facts_db(tmp_path / "work.duckdb", {"2022-10-01": 1, "2022-11-01": 2})
    try:
        publish_analyst_copy(work, published, "r1")
        recording = Recording(work)
        publish_analyst_copy(recording, published, "r2")  # nothing changed, the same rules
        assert not [sql for sql, *_ in recording.statements if "regexp_matches" in sql]

        # A rule added since (here: a town code 'T7' would count as personal data) reads every row again.
        monkeypatch.setattr(database, "FULL_ID_OR_PHONE", r"^T7$")
        with pytest.raises(PrivacyViolation, match=r"marts\.facts\.town_code holds 1 distinct value"):
            publish_analyst_copy(work, published, "r3")
    finally:
        work.close()
