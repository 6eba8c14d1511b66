"""Per-source expectation suites (Great Expectations), one per sheet kind and registry.

The suites are built from sheets.yaml and kept as reviewable JSON under
`pipelines/ingest/suites/` (regenerate with `python -m pipelines.ingest.suites` after
changing the contract; a unit test keeps the files in step). Each expectation's `meta`
names the quality rule it reports (its severity from the rule catalogue, docs/rules.md), the
column, whether a failing cell is set to null (unreadable / out of range: DQ11) and the message
template.

Validation runs on pandas frames in an ephemeral context (GX's SQL datasource is not used).
"""

from __future__ import annotations

import gc
import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from pipelines.catalogue import rule_severity
from pipelines.contract import Column, Contract, SourceSpec, load_contract

if TYPE_CHECKING:
    # GX's frames, in the suites process only (pipelines/ingest/suite_process.py): the refresh's own
    # process imports this module to start that one, and need not import pandas (≈ 0.2 s of CPU).
    import pandas as pd

SUITES_DIR = Path(__file__).resolve().parent / "suites"

TYPE_NAMES = {
    "text": ("文字（不能是 #REF!、#N/A 等公式错误值）", "text (not a formula error such as #REF! or #N/A)"),
    "phone": ("电话号码（不能是 #REF!、#N/A 等公式错误值）", "a phone number (not a formula error such as #REF!)"),
    "integer": ("整数", "a whole number"),
    "teams": ("整数或是/否", "a whole number or yes/no"),
    "number": ("数值", "a number"),
    "area": ("面积数值（平方米）", "an area in m²"),
    "money": ("金额数值", "an amount of money"),
    "yesno": ("是/否", "yes/no"),
    "date": ("日期（如 2022-06-30）", "a date (e.g. 2022-06-30)"),
    "category": ("下拉选项之一", "one of the listed values"),
    "categories": ("列出的类别（用、分隔）", "listed categories (separated by 、)"),
    "ability": ("能力等级 0–4", "an ability level 0–4"),
}
DEFAULT_MAX = {"area": 100_000, "money": 100_000_000}
WORKBOOK_FLOOR_DATE = "2000-01-01"
BIRTH_FLOOR_DATE = "1900-01-01"
BUILT = ["已建成", "已运营"]

# Keys of a row that must not repeat within one sheet (DQ19), by sheet kind.
DUPLICATE_KEYS = {
    "facilities": ("facility_name",),
    "village_points": ("village_name",),
    "pairings": ("id_number",),
    "trainings": ("id_number", "training_category", "training_date"),
}


def _given(field: str) -> str:
    return f"_given_{field} == True"


def _expectation(kind: str, rule: str, spec: Column | None, nulls_cell: bool, zh: str, en: str, **kwargs) -> dict:
    meta = {
        "rule_id": rule,
        "severity": rule_severity(rule),
        "field": spec.field if spec else None,
        "column_name": spec.header if spec else None,
        "nulls_cell": nulls_cell,
        "message_zh": zh,
        "message_en": en,
    }
    if "row_condition" in kwargs:
        kwargs["condition_parser"] = "pandas"
    return {"type": kind, "kwargs": kwargs, "meta": meta}


def _column_expectations(source: SourceSpec, column: Column) -> list[dict]:
    field, kind = column.field, column.type
    out: list[dict] = []
    if kind in TYPE_NAMES:
        zh_type, en_type = TYPE_NAMES[kind]
        out.append(_expectation(
            "expect_column_values_to_not_be_null", "DQ11_bad_value", column, True,
            f"无法识别为{zh_type}，请改为{zh_type}", f"cannot be read as {en_type}; enter {en_type}",
            column=field, row_condition=_given(field),
        ))
    if kind == "category":
        allowed = list(column.values)
        out.append(_expectation(
            "expect_column_values_to_be_in_set", "DQ11_bad_value", column, True,
            "不是允许的选项，请从下拉选项中选择：" + "、".join(allowed),
            "is not an allowed value; choose one of: " + ", ".join(allowed),
            column=field, value_set=allowed,
        ))
    if kind in ("integer", "teams", "number", "area", "money"):
        maximum = column.max if column.max is not None else DEFAULT_MAX.get(kind)
        bounds = f"0–{maximum:g}" if maximum is not None else "≥ 0"
        out.append(_expectation(
            "expect_column_values_to_be_between", "DQ11_bad_value", column, True,
            f"超出合理范围（{bounds}），请核实", f"is out of range ({bounds}); please check",
            column=field, min_value=0, max_value=maximum,
        ))
    if kind == "date":
        floor = BIRTH_FLOOR_DATE if field == "birth_date" else WORKBOOK_FLOOR_DATE
        out.append(_expectation(
            "expect_column_pair_values_a_to_be_greater_than_b", "DQ11_bad_value", column, True,
            f"日期早于 {floor}，请核实", f"is a date before {floor}; please check",
            column_A=field, column_B="_floor_date", or_equal=True, ignore_row_if="either_value_is_missing",
        ))
        if column.not_after_month_end or source.is_registry:
            zh, en = (("晚于导出日期，请核实", "is after the export date; please check") if source.is_registry
                      else ("晚于报表月份月末，请核实", "is after the end of the report month; please check"))
            out.append(_expectation(
                "expect_column_pair_values_a_to_be_greater_than_b", "DQ11_bad_value", column, True, zh, en,
                column_A="_as_of", column_B=field, or_equal=True, ignore_row_if="either_value_is_missing",
            ))
    if kind == "id":
        out.append(_expectation(
            "expect_column_values_to_be_in_set", "DQ01_id_invalid", column, False,
            "身份证号码无效（位数、出生日期或校验位错误，或已被显示为科学计数法），请按身份证原件重新录入（单元格设为文本格式）",
            "invalid ID number (length, birth date or check character wrong, or shown in scientific notation); "
            "re-enter it from the ID card with the cell formatted as text",
            column="id_valid", value_set=[True], row_condition=_given(field),
        ))
        out.append(_expectation(
            "expect_column_values_to_be_in_set", "DQ02_id_legacy15", column, False,
            "15位旧身份证号码，已自动转换为18位，请更新为18位号码",
            "15-digit legacy ID number converted to 18 digits; please update it to the 18-digit number",
            column="id_legacy15", value_set=[False], row_condition=_given(field),
        ))
    if kind == "village":
        out.append(_expectation(
            "expect_column_values_to_not_be_null", "DQ08_unknown_village", column, False,
            "不是本镇街的村（社区）名称，请按区划名称填写", "matches no village or community of this town; use the official name",
            column=f"{field}_code", row_condition=_given(field),
        ))
    if source.is_registry and field == "town_name":
        out.append(_expectation(
            "expect_column_values_to_not_be_null", "DQ11_bad_value", column, False,
            "不是已知的镇街名称，请核实", "is not a known town name; please check",
            column="town_code", row_condition=_given(field),
        ))
    return out


def _sheet_rules(source: SourceSpec) -> list[dict]:
    out: list[dict] = []
    if source.kind == "facilities":
        beds = source.column("beds")
        for field in ("nursing_beds", "residents"):
            column = source.column(field)
            out.append(_expectation(
                "expect_column_pair_values_a_to_be_greater_than_b", "DQ12_beds_inconsistent", column, False,
                f"{column.header}大于床位数，请核实", f"{column.header} is greater than the beds ({beds.header}); please check",
                column_A="beds", column_B=field, or_equal=True, ignore_row_if="either_value_is_missing",
            ))
    if source.kind == "facilities":
        completion = source.column("completion_date")
        out.append(_expectation(
            "expect_column_values_to_not_be_null", "DQ14_dates_inconsistent", completion, False,
            "已建成（已运营）但未填建成日期，请补填", "built or operating but no completion date; please fill it in",
            column="completion_date", row_condition=f"build_status in {BUILT!r}",
        ))
        out.append(_expectation(
            "expect_column_pair_values_a_to_be_greater_than_b", "DQ14_dates_inconsistent", completion, False,
            "建成日期晚于报表月份，请核实", "completion date is after the report month; please check",
            column_A="_as_of", column_B="completion_date", or_equal=True, ignore_row_if="either_value_is_missing",
        ))
        out.append(_expectation(
            "expect_column_pair_values_a_to_be_greater_than_b", "DQ14_dates_inconsistent", completion, False,
            "建成日期早于开工日期，请核实", "completion date is before the start date; please check",
            column_A="completion_date", column_B="start_date", or_equal=True, ignore_row_if="either_value_is_missing",
        ))
    if source.kind in DUPLICATE_KEYS:
        column = source.column(DUPLICATE_KEYS[source.kind][0])
        out.append(_expectation(
            "expect_column_values_to_be_between", "DQ19_duplicate_row", column, False,
            "与本表前面的行重复，只计第一行，请删除重复行", "repeats an earlier row of this sheet (only the first counts); delete the duplicate",
            column="_occurrence", max_value=1,
        ))
    if source.kind == "trainings":
        out.append(_expectation(
            "expect_column_values_to_not_be_null", "DQ21_certificate_missing", source.column("certificate_no"), False,
            "已取证但未填证书编号，请补填", "certified but no certificate number; please fill it in",
            column="certificate_no", row_condition="certified == True",
        ))
    if source.is_registry:
        out.append(_expectation(
            "expect_column_values_to_be_in_set", "DQ11_bad_value", None, False,
            "该行字段数与表头不一致（已补齐或截断），请核对导出", "the row has a different number of fields than the header (padded or cut); check the export",
            column="_field_count_ok", value_set=[True],
        ))
    return out


def suite_columns(suite: dict) -> set[str]:
    """Every column a suite's expectations read (their columns and row conditions)."""
    columns: set[str] = set()
    for item in suite["expectations"]:
        kwargs = item["kwargs"]
        columns.update(kwargs[k] for k in ("column", "column_A", "column_B") if k in kwargs)
        if "row_condition" in kwargs:
            columns.add(kwargs["row_condition"].split()[0])
    return columns


def presence_only_columns(suite: dict) -> set[str]:
    """Columns the suite tests for being filled only (`expect_column_values_to_not_be_null`), read
    by no other expectation or row condition."""
    null_test = "expect_column_values_to_not_be_null"
    null_tests = [item for item in suite["expectations"] if item["type"] == null_test]
    others = [item for item in suite["expectations"] if item["type"] != null_test]
    conditions = {item["kwargs"]["row_condition"].split()[0] for item in null_tests if "row_condition" in item["kwargs"]}
    return {item["kwargs"]["column"] for item in null_tests} - suite_columns({"expectations": others}) - conditions


def build_suite(source: SourceSpec) -> dict:
    expectations = [e for column in source.columns for e in _column_expectations(source, column)]
    return {"name": source.table, "source": source.name, "expectations": [*expectations, *_sheet_rules(source)]}


def build_suites(contract: Contract) -> dict[str, dict]:
    return {source.table: build_suite(source) for source in contract.sources}


def suite_file(table: str) -> Path:
    return SUITES_DIR / f"{table}.json"


def load_suite(table: str) -> dict:
    return json.loads(suite_file(table).read_text(encoding="utf-8"))


def write_suites(contract: Contract) -> None:
    SUITES_DIR.mkdir(exist_ok=True)
    for table, suite in build_suites(contract).items():
        suite_file(table).write_text(json.dumps(suite, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


# --- running ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Failure:
    """One failed expectation: which rows (positions in the validated frame) and what it means."""

    meta: dict
    rows: list[int]


# The expectations the suites use, each of which tests a row by the row's own values alone (no
# uniqueness, no counts: duplicates are counted in Polars first): a validation may then test each
# distinct row once and give its result to every row equal to it (pipelines/ingest/checks.py).
ROW_BY_ROW_EXPECTATIONS = frozenset({
    "expect_column_values_to_not_be_null", "expect_column_values_to_be_in_set",
    "expect_column_values_to_be_between", "expect_column_pair_values_a_to_be_greater_than_b",
})


def require_row_by_row(suite: dict) -> None:
    for item in suite["expectations"]:
        if item["type"] not in ROW_BY_ROW_EXPECTATIONS:
            raise ValueError(f"suite {suite['name']}: {item['type']} is not known to test each row on its own; "
                             "add it to ROW_BY_ROW_EXPECTATIONS only if it does (pipelines/ingest/suites.py)")


class SuiteColumns:
    """Which columns each table's suite reads (from the suite files; no GX needed)."""

    def __init__(self) -> None:
        self._columns: dict[str, set[str]] = {}
        self._presence_only: dict[str, set[str]] = {}

    def columns(self, table: str) -> set[str]:
        """The columns the table's suite reads: only these need to reach GX."""
        if table not in self._columns:
            suite = load_suite(table)
            require_row_by_row(suite)
            self._columns[table] = suite_columns(suite)
        return self._columns[table]

    def presence_only_columns(self, table: str) -> set[str]:
        """The columns the table's suite tests for being filled only (`presence_only_columns`)."""
        if table not in self._presence_only:
            self._presence_only[table] = presence_only_columns(load_suite(table))
        return self._presence_only[table]


class SuiteRunner(SuiteColumns):
    """Runs the repository's suites on pandas frames in one ephemeral GX context."""

    def __init__(self) -> None:
        super().__init__()
        with _pyspark_hidden():
            import great_expectations as gx
            from great_expectations.data_context.types.base import ProgressBarsConfig
            from great_expectations.execution_engine import pandas_execution_engine

        logging.getLogger("great_expectations").setLevel(logging.ERROR)
        # GX fingerprints every frame it validates (an md5 over a pandas hash of all its rows) as
        # a batch marker, which ruralcare never reads: 1.7 s of a city's registry exports.
        pandas_execution_engine.HASH_THRESHOLD = 0
        _keep_row_condition_masks(pandas_execution_engine)
        _keep_expectation_configurations(gx.expectations.Expectation)
        self._gx = gx
        self._context = gx.get_context(mode="ephemeral")
        self._context.variables.progress_bars = ProgressBarsConfig(globally=False)
        self._datasource = self._context.data_sources.add_pandas("ingest")
        self._batches: dict[str, object] = {}
        self._suites: dict[str, object] = {}

    def _suite(self, table: str):
        if table not in self._suites:
            import great_expectations.expectations as gxe

            definition = load_suite(table)
            suite = self._gx.ExpectationSuite(name=definition["name"])
            for item in definition["expectations"]:
                cls = getattr(gxe, "".join(p.capitalize() for p in item["type"].split("_")))
                suite.add_expectation(cls(**item["kwargs"], meta=item["meta"]))
            self._suites[table] = self._context.suites.add(suite)
            asset = self._datasource.add_dataframe_asset(table)
            self._batches[table] = asset.add_batch_definition_whole_dataframe(table)
        return self._suites[table]

    def validate(self, table: str, rows: pl.DataFrame) -> list[Failure]:
        """Failures of the table's suite on `rows` (positions are row positions)."""
        if rows.is_empty():
            return []
        suite = self._suite(table)
        frame = rows.to_pandas()
        # What exists now (GX's own few hundred thousand objects among them) is no garbage of
        # this validation: frozen, the collections during and after it walk only its objects.
        gc.freeze()
        try:
            batch = self._batches[table].get_batch(batch_parameters={"dataframe": frame})
            try:
                result = batch.validate(suite, result_format={"result_format": "COMPLETE"})
            finally:
                _forget(batch)
        finally:
            _masks.clear()
            _configurations.clear()
            gc.unfreeze()
        failures = []
        for item in result.results:
            if item.success:
                continue
            meta = dict(item.expectation_config.meta or {})
            if item.exception_info and item.exception_info.get("raised_exception"):
                raise RuntimeError(f"expectation failed to run on {table}: {item.exception_info}")
            rows = [int(i) for i in item.result.get("unexpected_index_list") or []]
            failures.append(Failure(meta=meta, rows=rows))
        return failures


# (id of the validated frame, row condition) → (the frame, its rows meeting the condition), for
# the validation running now: GX filters the frame by an expectation's row condition once for
# every metric it computes (several per expectation), each time parsing and evaluating the
# condition with DataFrame.query. A mask is a byte per row; the frame is held so that its id
# stays its own while the validation runs.
_masks: dict[tuple[int, str], tuple[pd.DataFrame, pd.Series]] = {}


@contextmanager
def _pyspark_hidden() -> Iterator[None]:
    """Great Expectations, while it imports, as if pyspark were not installed.

    It imports pyspark when it finds it (the Spark extras, docs/engines.md), and pyspark's connect
    module ends a process whose `__main__` has no file (a child spawned by `python -c`, a
    pytest-xdist worker), taking it for a doctest run. The suites validate pandas frames; once
    imported, GX does not look for pyspark again, and the process can still import it later.
    """
    if "pyspark" in sys.modules:  # imported already: GX finds it either way
        yield
        return
    sys.modules["pyspark"] = None  # `import pyspark` raises ImportError, which GX expects
    try:
        yield
    finally:
        del sys.modules["pyspark"]


def _keep_row_condition_masks(engine_module) -> None:
    """GX's pandas engine filtering a frame by a pandas row condition with the mask kept during
    the validation; the rows are those DataFrame.query returns (pandas' query is eval, then loc)."""
    engine_class = engine_module.PandasExecutionEngine
    apply_filter = engine_class._apply_row_condition_filter
    if getattr(apply_filter, "keeps_masks", False):
        return

    def filter_with_kept_mask(engine, data: pd.DataFrame, row_condition, domain_kwargs: dict) -> pd.DataFrame:
        if isinstance(row_condition, dict):  # how GX hands a suite's condition to the engine
            row_condition = engine_module.deserialize_row_condition(row_condition)
        if isinstance(row_condition, engine_module.PassThroughCondition):
            condition = row_condition.pass_through_filter  # a suite's string condition, as GX keeps it
        elif isinstance(row_condition, str) and domain_kwargs.get("condition_parser") == "pandas":
            condition = row_condition
        else:
            return apply_filter(engine, data, row_condition, domain_kwargs)
        key = (id(data), condition)
        if key not in _masks:
            _masks[key] = (data, data.eval(condition, parser="pandas"))
        return data.loc[_masks[key][1]]

    filter_with_kept_mask.keeps_masks = True
    engine_class._apply_row_condition_filter = filter_with_kept_mask


# id(expectation) → (the expectation, its configuration), for the validation running now.
_configurations: dict[int, tuple[object, object]] = {}


def _keep_expectation_configurations(expectation_class) -> None:
    """An expectation's configuration made once per validation: GX makes it anew (a pydantic
    `.dict()` of the expectation) every time it is asked for, several times per metric while it
    builds the validation's metric graph, and nothing changes an expectation while it validates."""
    make = expectation_class.configuration.fget
    if getattr(make, "keeps_configurations", False):
        return

    def kept_configuration(expectation):
        key = id(expectation)
        if key not in _configurations:
            _configurations[key] = (expectation, make(expectation))
        return _configurations[key][1]

    kept_configuration.keeps_configurations = True
    expectation_class.configuration = property(kept_configuration)


def _forget(batch) -> None:
    """Drop what GX's execution engine caches per batch (the frame itself and its computed
    metrics) and collect the reference cycles its results leave: otherwise every validated
    frame of a run stays in memory (GBs for a city-scale registry)."""
    engine = batch.data.execution_engine
    engine.batch_manager.reset_batch_cache()
    engine.batch_manager.batch_data_cache.clear()
    engine._metric_cache.clear()  # no public API; a NoOpDict when caching is off
    gc.collect()


if __name__ == "__main__":
    write_suites(load_contract())
    print(f"suites written to {SUITES_DIR}")
