# Two commands from a fresh clone: `make run` and `make test`. Both make .venv themselves.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-fast bench bench-transition-rate bench-sweep bench-migration bench-ledger-import bench-rush bench-audit-verify bench-inbox translations clean

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/songnuan init-db
	$(BIN)/songnuan demo --if-empty
	$(BIN)/songnuan run

# Both cores: each pytest-xdist worker has a database of its own (a SQLite file, or a PostgreSQL database).
PYTEST_ARGS ?= --numprocesses auto
test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The quick loop: everything but the tests marked slow (processes, browsers, long generated runs).
test-fast: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS) -m "not slow"

bench: bench-transition-rate bench-sweep bench-migration bench-ledger-import bench-rush bench-audit-verify bench-inbox

# 500 cases the whole way through the verbs beside the same writes by the driver alone, on SQLite and on a fresh
# PostgreSQL database of SONGNUAN_TEST_DATABASE_URL's server (default 127.0.0.1:5432) (BENCH_ARGS=--help).
bench-transition-rate: $(STAMP)
	$(BIN)/python bench/transition_rate.py $(BENCH_ARGS)

# 1,000,000 cases, 100,000 of them overdue: about half a minute and 1 GB of temporary disk (BENCH_ARGS=--help).
bench-sweep: $(STAMP)
	$(BIN)/python bench/sweep.py $(BENCH_ARGS)

# Revision 0007 (household archives) over 100,000 cases of revision 0006 (BENCH_ARGS=--help).
bench-migration: $(STAMP)
	$(BIN)/python bench/migration.py $(BENCH_ARGS)

# A union's ledger of 5,000 rows: checked with one bad cell, then imported, against reading the file (BENCH_ARGS=--help).
bench-ledger-import: $(STAMP)
	$(BIN)/python bench/ledger_import.py $(BENCH_ARGS)

# The last day before the deadline: 50 clients through the API of songnuan serve (4 workers) on a fresh PostgreSQL
# database of SONGNUAN_TEST_DATABASE_URL's server (default 127.0.0.1:5432), beside /healthz (BENCH_ARGS=--help).
bench-rush: $(STAMP)
	$(BIN)/python bench/rush.py $(BENCH_ARGS)

# Audit verification over 1,000,000 events beside a tight loop hashing the same bytes, and from a checkpoint after
# 1,000 more, on SQLite and on a fresh PostgreSQL database of SONGNUAN_TEST_DATABASE_URL's server (BENCH_ARGS=--help).
bench-audit-verify: $(STAMP)
	$(BIN)/python bench/audit_verify.py $(BENCH_ARGS)

# The lists at a province's size: 1,000,000 archives over 2,000 unions built by bench/generate.py on SQLite and on
# PostgreSQL (database songnuan_bench_inbox, made afresh), then each role's inbox and the case and archive lists,
# first and deep pages, full request beside their raw SQL (BENCH_ARGS=--help; --archives N for a smaller run).
bench-inbox: $(STAMP)
	$(BIN)/python bench/inbox.py $(BENCH_ARGS)

# After changing a text of the screens: refresh the English catalogue, translate what is new, run this again.
translations: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k lazy_gettext -k _l -o instance/messages.pot --no-location --omit-header .
	$(BIN)/python -m app.i18n instance/messages.pot
	$(BIN)/pybabel update -i instance/messages.pot -d app/translations -l en --no-fuzzy-matching
	$(BIN)/pybabel compile -d app/translations -l en

clean:
	rm -rf $(VENV) instance .pytest_cache .hypothesis
