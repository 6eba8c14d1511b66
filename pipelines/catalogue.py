"""The KPI and rule catalogues and the traffic-light limits, as Python reads them.

`dbt_project/seeds/kpi_catalogue.csv` and `rule_catalogue.csv` are the one list of KPIs and
data-quality rules (dbt loads them as seeds); the status limits are the `status_limits` var of
`dbt_project/dbt_project.yml`. Report labels, feedback workbooks, asset checks and the ingest
suites' severities read them here; docs/kpis.md and docs/rules.md are generated from them
(`python -m pipelines.docs_catalogue`). Files are read on first use, once per process.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from pipelines.settings import DBT_PROJECT_DIR, SEEDS_DIR

RULE_CATALOGUE = SEEDS_DIR / "rule_catalogue.csv"
KPI_CATALOGUE = SEEDS_DIR / "kpi_catalogue.csv"
DBT_PROJECT_FILE = DBT_PROJECT_DIR / "dbt_project.yml"
SEVERITIES = ("error", "warning", "info")
LAYERS = ("ingest", "sql")
KINDS = ("progress", "threshold", "info")
MEASURES = ("count", "rate")


class CatalogueError(ValueError):
    """A catalogue file is malformed, or names a rule or KPI it does not hold."""


@dataclass(frozen=True)
class Rule:
    rule_id: str
    severity: str
    layer: str
    name_zh: str
    fix_zh: str
    fix_en: str
    description_en: str

    @property
    def model(self) -> str | None:
        """The dbt model of a SQL-layer rule (models/quality/rules/<model>.sql)."""
        return self.rule_id.lower() if self.layer == "sql" else None


@dataclass(frozen=True)
class Kpi:
    kpi_id: str
    kpi_no: int
    name_zh: str
    kind: str
    measure: str
    unit: str
    threshold: float | None
    feeding_sheet: str
    definition_zh: str
    model: str
    numerator_en: str
    denominator_en: str | None
    target_en: str | None


@dataclass(frozen=True)
class StatusLimits:
    progress_green_gap: float
    progress_yellow_gap: float
    threshold_yellow_margin: float


def _rows(path: Path, columns: tuple[str, ...]) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in columns if c not in (reader.fieldnames or [])]
        if missing:
            raise CatalogueError(f"{path}: missing column(s) {', '.join(missing)}")
        return list(reader)


def _records(path: Path, record: type, allowed: dict[str, tuple[str, ...]]) -> Iterator[dict[str, str]]:
    """Every row's values of the `record` dataclass's fields, each column of `allowed` checked."""
    fields = tuple(record.__dataclass_fields__)
    for line, row in enumerate(_rows(path, fields), start=2):
        for column, values in allowed.items():
            if row[column] not in values:
                raise CatalogueError(
                    f"{path}, line {line}, column {column}: {row[column]!r} is not one of {', '.join(values)}"
                )
        yield {name: row[name] for name in fields}


@cache
def rules() -> dict[str, Rule]:
    """Every rule of rule_catalogue.csv by rule_id, in the file's order."""
    allowed = {"severity": SEVERITIES, "layer": LAYERS}
    return {r["rule_id"]: Rule(**r) for r in _records(RULE_CATALOGUE, Rule, allowed)}


def rule(rule_id: str) -> Rule:
    try:
        return rules()[rule_id]
    except KeyError:
        raise CatalogueError(f"rule {rule_id!r} is not in {RULE_CATALOGUE}: add a row for it") from None


def rules_of_layer(layer: str) -> list[Rule]:
    return [r for r in rules().values() if r.layer == layer]


def rule_severity(rule_id: str) -> str:
    return rule(rule_id).severity


def rule_name_zh(rule_id: str) -> str:
    """The rule's Chinese name, the one the report and the feedback workbooks both print (an id
    the catalogue lacks prints as itself)."""
    found = rules().get(rule_id)
    return found.name_zh if found else rule_id


@cache
def kpis() -> dict[str, Kpi]:
    """Every KPI of kpi_catalogue.csv by kpi_id, in the file's order."""
    allowed = {"kind": KINDS, "measure": MEASURES}
    return {
        r["kpi_id"]: Kpi(**{
            **r,
            "kpi_no": int(r["kpi_no"]),
            "threshold": float(r["threshold"]) if r["threshold"] else None,
            "denominator_en": r["denominator_en"] or None,
            "target_en": r["target_en"] or None,
        })
        for r in _records(KPI_CATALOGUE, Kpi, allowed)
    }


@cache
def status_limits() -> StatusLimits:
    """The `status_limits` var of dbt_project.yml (int_kpi__status.sql reads the same)."""
    project = yaml.safe_load(DBT_PROJECT_FILE.read_text(encoding="utf-8"))
    try:
        limits = project["vars"]["status_limits"]
        return StatusLimits(**{name: float(limits[name]) for name in StatusLimits.__dataclass_fields__})
    except (KeyError, TypeError) as error:
        needed = ", ".join(StatusLimits.__dataclass_fields__)
        raise CatalogueError(f"{DBT_PROJECT_FILE}: vars.status_limits needs {needed} ({error})") from None
