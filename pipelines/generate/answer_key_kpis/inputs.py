"""What the answer key reads: truth tables, the division list, the plan seeds, the month grid."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from pipelines.contract import polars_schema, raw_tables

CITY = "city"  # the scope code of the warehouse as a whole in kpis.csv
# Tables that hold a row per person (millions at city scale): scanned, never read whole.
SCANNED_TABLES = ("town_pairings", "registry_elderly", "registry_tekun", "registry_dibao", "registry_family_doctor")


def load_truth_tables(truth_dir: Path) -> dict[str, pl.DataFrame | pl.LazyFrame]:
    """Every raw table of the contract; a table the generator did not write is empty.

    The tables of SCANNED_TABLES are LazyFrames over the Parquet files, the others DataFrames.
    """
    tables = {}
    for table, columns in raw_tables().items():
        schema = polars_schema(columns)
        path = Path(truth_dir) / f"{table}.parquet"
        if path.exists():
            frame = pl.scan_parquet(path)
            present = frame.collect_schema().names()
            frame = frame.with_columns(
                pl.col(name).cast(dtype) if name in present else pl.lit(None, dtype).alias(name)
                for name, dtype in schema.items()
            )
        else:
            frame = pl.LazyFrame(schema=schema)
        tables[table] = frame if table in SCANNED_TABLES else frame.collect()
    return tables


@dataclass(frozen=True)
class Scope:
    towns: pl.DataFrame  # town_code, town_name, district_code (the town's parent_code)
    villages: pl.DataFrame  # town_code, village_code: the 村 of the towns in scope

    @property
    def town_codes(self) -> list[str]:
        return self.towns["town_code"].to_list()

    @property
    def district_codes(self) -> list[str]:
        return sorted(self.towns["district_code"].unique().to_list())

    def areas(self) -> pl.DataFrame:
        """town_code, scope_code: each town's district, and the city (every town)."""
        return pl.concat([
            self.towns.select("town_code", scope_code="district_code"),
            self.towns.select("town_code", scope_code=pl.lit(CITY)),
        ])


def _truthy(column: str) -> pl.Expr:
    return pl.col(column).cast(pl.String).str.to_lowercase().is_in(["true", "1", "t", "yes"])


def load_scope(divisions_file: Path) -> Scope:
    divisions = pl.read_csv(
        divisions_file,
        schema_overrides={"code": pl.String, "parent_code": pl.String, "is_rural_scope": pl.String},
    ).with_columns(in_scope=_truthy("is_rural_scope"))
    towns = (
        divisions.filter((pl.col("level") == "town") & pl.col("in_scope"))
        .select(town_code="code", town_name="name", district_code="parent_code")
        .unique("town_code", keep="first")
        .sort("town_code")
    )
    villages = (
        divisions.filter((pl.col("level") == "village") & pl.col("parent_code").is_in(towns["town_code"].implode()))
        .select(town_code="parent_code", village_code="code")
        .unique("village_code", keep="first")
        .sort("village_code")
    )
    return Scope(towns=towns, villages=villages)


@dataclass(frozen=True)
class Plan:
    start_date: dt.date
    projects: pl.DataFrame  # plan_projects.csv
    targets: pl.DataFrame  # kpi_id, scope_code, due_date, target_value


def load_plan(seeds_dir: Path) -> Plan:
    seeds_dir = Path(seeds_dir)
    plan = pl.read_csv(seeds_dir / "plan.csv", try_parse_dates=True)
    projects = pl.read_csv(
        seeds_dir / "plan_projects.csv",
        schema_overrides={"town_code": pl.String, "min_area_m2": pl.Float64, "due_date": pl.Date},
    )
    targets = pl.read_csv(
        seeds_dir / "plan_targets.csv",
        schema_overrides={"scope_code": pl.String, "due_date": pl.Date, "target_value": pl.Float64},
    ).select("kpi_id", "scope_code", "due_date", "target_value")
    return Plan(
        start_date=plan["start_date"].cast(pl.Date).min(),
        projects=projects,
        targets=targets,
    )


def month_grid(first: dt.date, last: dt.date) -> pl.DataFrame:
    """month (first day) and month_end for every month from first to last."""
    months = pl.date_range(first, last, "1mo", eager=True).alias("month")
    return pl.DataFrame(months).with_columns(month_end=pl.col("month").dt.month_end())
