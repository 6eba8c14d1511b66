# The two commands of the README: `make demo` (setup + main job) and `make test`.
.PHONY: setup demo test docs ui

export DO_NOT_TRACK := 1

setup:
	bash scripts/setup.sh

demo: setup
	.venv/bin/ruralcare demo

test: setup
	.venv/bin/pytest -q

docs: setup
	.venv/bin/ruralcare docs

ui: setup
	.venv/bin/ruralcare ui
