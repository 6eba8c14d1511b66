"""Small reads of a DuckDB connection shared by the stages (publish, report, site)."""

from __future__ import annotations

import duckdb


def has_table(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    """Whether the connection's own database holds schema.table (a warehouse from before the
    table existed, or an empty one, does not)."""
    return con.execute(
        "select count(*) from duckdb_tables() where schema_name = ? and table_name = ? "
        "and database_name = current_database()", [schema, table]).fetchone()[0] > 0


def contents_by_part(con: duckdb.DuckDBPyConnection, relation: str, part: str = "month") -> dict:
    """Part (each value of the expression `part`, by default the month) → (rows, sum of the rows'
    hashes; None for an empty table without parts) of a table or a parenthesised query: what a
    part's rows are, whatever their order."""
    return {found: (rows, None if hashed is None else int(hashed)) for found, rows, hashed in con.execute(
        f"select {part}, count(*), sum(hash(t)::hugeint) from {relation} as t group by all").fetchall()}


def dict_rows(con: duckdb.DuckDBPyConnection, sql: str, params: list | dict | None = None) -> list[dict]:
    """The query's rows as dicts keyed by column name (params: positional ? or named $name)."""
    result = con.execute(sql, params or [])
    names = [d[0] for d in result.description]
    return [dict(zip(names, values)) for values in result.fetchall()]
