# One command per habit. Every target creates .venv first if it is missing.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install dev test unit lint bench fuzz package clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

dev: install
	$(BIN)/crm dev $(ARGS)

test: install
	$(BIN)/pytest -n 2 --dist loadgroup $(ARGS)

unit: install
	$(BIN)/pytest tests/unit $(ARGS)

# The OpenAPI fuzzer for longer than make test runs it (FUZZ_EXAMPLES per operation, FUZZ_SEED).
FUZZ_EXAMPLES ?= 200
FUZZ_SEED ?= $(shell date +%s)
fuzz: install
	CRM_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) CRM_FUZZ_SEED=$(FUZZ_SEED) $(BIN)/pytest tests/e2e/test_fuzz.py -s $(ARGS)

lint: install
	$(BIN)/ruff check shared functions tests infra
	$(BIN)/ruff format --check shared functions tests infra
	$(BIN)/mypy -p crm -p crm_tools

bench: install
	$(BIN)/python -m tests.bench $(ARGS)

package: install
	$(BIN)/crm package --output build

clean:
	rm -rf build .pytest_cache .mypy_cache .ruff_cache
