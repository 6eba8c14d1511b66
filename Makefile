# The two commands of the README: `make demo` (setup + main job) and `make test`.
.PHONY: setup setup-spark demo test test-spark bench docs ui

export DO_NOT_TRACK := 1

setup:
	bash scripts/setup.sh

demo: setup
	.venv/bin/ruralcare demo

test: setup
	.venv/bin/pytest -q -n auto --maxprocesses 4 --dist loadfile

setup-spark:
	bash scripts/setup.sh --spark

# The dbt project built on Spark and compared with the DuckDB build (≈ 12 min on 2 cores;
# not part of `make test`, docs/engines.md says why).
test-spark: setup-spark
	.venv/bin/pytest -q -m spark tests/spark

# Every benchmark in bench/ (≈ 20 min on 2 cores, and the city's): figures printed, JSON in bench/results/.
bench: setup
	.venv/bin/python bench/bench_refresh.py --keep bench/.work
	.venv/bin/python bench/bench_report.py --warehouse bench/.work/run1/incremental/warehouse
	.venv/bin/python bench/bench_ingest.py
	.venv/bin/python bench/bench_generate.py
	.venv/bin/python bench/bench_city.py

docs: setup
	.venv/bin/ruralcare docs

ui: setup
	.venv/bin/ruralcare ui
