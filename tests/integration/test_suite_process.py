"""The suites in a process of their own (pipelines/ingest/suite_process.py): the same failures as
in the loader's process, an error there reported here, and nothing left running."""

from __future__ import annotations

import signal
import subprocess
import sys

import polars as pl
import pytest

from pipelines.ingest import suite_process
from pipelines.ingest.suite_process import SuiteProcess, suites_ahead, taken_ahead
from pipelines.ingest.suites import SuiteColumns, SuiteRunner
from pipelines.settings import PROJECT_ROOT


def _tekun_frame(support_modes: list[str | None]) -> pl.DataFrame:
    """Rows of every column the 特困 suite reads: 供养方式 given as listed, the rest empty and not given."""
    frame = pl.DataFrame({"support_mode": support_modes, "_given_support_mode": [m is not None for m in support_modes]})
    missing = [c for c in sorted(SuiteColumns().columns("registry_tekun")) if c not in frame.columns]
    return frame.with_columns(
        [pl.lit(False).alias(c) if c.startswith("_given_") else pl.lit(None, pl.String).alias(c) for c in missing])


def test_the_process_finds_what_the_runner_here_finds():
    frame = _tekun_frame(["集中供养", "不知道", None])
    here = SuiteRunner().validate("registry_tekun", frame)
    process = SuiteProcess()
    try:
        there = process.validate("registry_tekun", frame)
    finally:
        process.close()
    assert [(f.meta, f.rows) for f in there] == [(f.meta, f.rows) for f in here]
    assert [f.meta["rule_id"] for f in there if f.rows == [1]] == ["DQ11_bad_value"]
    assert process._process.exitcode == 0  # asked to stop, it stopped


def test_an_error_in_the_process_is_raised_here_with_where_it_came_from():
    process = SuiteProcess()
    try:
        with pytest.raises(RuntimeError, match="(?s)validating no_such_table failed in the validation process.*Trace"):
            process.validate("no_such_table", pl.DataFrame({"a": [1]}))
        assert process.validate("registry_tekun", _tekun_frame(["集中供养"])) == []  # and it goes on
    finally:
        process.close()


def test_a_process_the_refresh_did_not_use_is_stopped_at_once_and_none_is_left():
    with suites_ahead():
        ahead = taken_ahead()
        assert ahead is not None and ahead._process.is_alive()
    assert ahead._process.exitcode == -signal.SIGKILL  # not waited for while Great Expectations imports
    assert taken_ahead() is None and suite_process._ahead is None


def test_the_loading_does_not_wait_for_the_used_process_to_end_and_nothing_leaks():
    """release_ahead asks it to stop and returns (its interpreter takes ≈ 0.7 s to tear down);
    the block's end waits for it. Killed instead, it left a semaphore for Python's resource
    tracker to report at exit."""
    code = (
        "from tests.integration.test_suite_process import _tekun_frame\n"
        "from pipelines.ingest.suite_process import release_ahead, suites_ahead, taken_ahead\n"
        "with suites_ahead():\n"
        "    ahead = taken_ahead()\n"
        "    ahead.validate('registry_tekun', _tekun_frame(['集中供养']))\n"
        "    release_ahead()\n"
        "    assert taken_ahead() is None\n"
        "print('exit code', ahead._process.exitcode)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120)

    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip() == "exit code 0"  # ended on its own, and waited for
    assert "leaked" not in done.stderr, done.stderr[-3000:]


def test_a_library_great_expectations_would_import_cannot_end_the_process(tmp_path):
    """pyspark (installed with the Spark extras) exits a process whose `__main__` has no file, as
    this test's `python -c` parent and its spawned child have; here a pyspark that exits on import
    stands in for it, first on the path. The runner in this process and the one in the suites
    process both validate, and pyspark can still be imported after."""
    (tmp_path / "pyspark").mkdir()
    (tmp_path / "pyspark" / "__init__.py").write_text("import sys\nsys.exit(0)\n")
    code = (
        "from tests.integration.test_suite_process import _tekun_frame\n"
        "from pipelines.ingest.suite_process import SuiteProcess\n"
        "from pipelines.ingest.suites import SuiteRunner\n"
        "here = SuiteRunner().validate('registry_tekun', _tekun_frame(['不知道']))\n"
        "process = SuiteProcess()\n"
        "there = process.validate('registry_tekun', _tekun_frame(['不知道']))\n"
        "process.close()\n"
        "print([f.meta['rule_id'] for f in here + there])\n"
        "import pyspark\n"
        "print('not reached: the stand-in exits')\n"
    )
    done = subprocess.run([sys.executable, "-c", f"import sys; sys.path.insert(0, {str(tmp_path)!r})\n{code}"],
                          cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120)

    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip() == "['DQ11_bad_value', 'DQ11_bad_value']"


def test_validating_each_distinct_row_once_finds_the_rows_validating_every_row_finds():
    from pipelines.ingest.checks import _distinct_rows, _rows_equal_to

    frame = _tekun_frame(["集中供养", "不知道", None, "不知道", "集中供养", None, "分散供养", "不知道", "也不知道"])
    runner = SuiteRunner()
    every_row = [(f.meta, f.rows) for f in runner.validate("registry_tekun", frame)]
    distinct, equal_rows = _distinct_rows(frame)
    assert distinct.height == 5 and distinct.schema == frame.schema
    each_distinct_once = [(f.meta, _rows_equal_to(f.rows, equal_rows)) for f in runner.validate("registry_tekun", distinct)]
    assert sorted(each_distinct_once, key=str) == sorted(every_row, key=str)
    assert [1, 3, 7, 8] in [rows for _, rows in every_row]  # the unknown 供养方式, wherever it repeats


def test_a_suite_may_hold_only_expectations_that_test_each_row_on_its_own():
    from pipelines.ingest.suites import ROW_BY_ROW_EXPECTATIONS, load_suite, require_row_by_row, suite_file

    for path in suite_file("registry_tekun").parent.glob("*.json"):
        require_row_by_row(load_suite(path.stem))  # every suite of the repository
    suite = {"name": "registry_tekun", "expectations": [
        {"type": "expect_column_values_to_be_unique", "kwargs": {"column": "id_number"}}]}
    with pytest.raises(ValueError, match="expect_column_values_to_be_unique is not known to test each row"):
        require_row_by_row(suite)
    assert "expect_column_values_to_be_unique" not in ROW_BY_ROW_EXPECTATIONS
