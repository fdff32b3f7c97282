# The two commands a new user needs (see README.md):
#   make demo   set up, then run the demo on the embedded defaults
#   make test   set up (plus chromium for the browser tests), then run ruff and the whole test suite
#               (SQLite and PostgreSQL)

.PHONY: setup demo test lint bench

setup:
	@scripts/setup

demo: setup
	@scripts/demo

test: setup
	@scripts/setup-browser
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/pytest

bench: setup
	@for b in bench/*.py; do echo "== $$b"; .venv/bin/python $$b || exit 1; done
