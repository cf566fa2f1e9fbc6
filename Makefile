# The two commands: `make dev` (run locally) and `make test` (the whole suite).
SHELL := /bin/bash
PY ?= python3.11
VENV := .venv
SAMVENV := .venv-sam
STAMP := $(VENV)/.installed
SAMSTAMP := $(SAMVENV)/.installed
NODESTAMP := node_modules/.installed
PORT ?= 3000
# The local OIDC provider `make dev` starts for SSO (docs/sso.md); -1 leaves it out.
OIDC_PORT ?= 9400
# The example app with Userfront's toolkit forms (docs/toolkit.md).
DEMO_PORT ?= 5173
# Two pytest workers per core: each API-test worker mostly waits on its own local runtime
# (a separate process), so one per core leaves the cores half idle (measured: 10m42s with
# 4 workers vs. about 17 minutes with 2 on a 2-core machine).
TEST_WORKERS ?= $(shell echo $$(( $$(nproc) * 2 )))

.PHONY: dev sam-local test lint typecheck format venv sam-venv node-deps validate unit api e2e bench clean

$(STAMP): pyproject.toml
	@command -v $(PY) >/dev/null 2>&1 || { echo "Python 3.11 is required ($(PY) not found)"; exit 1; }
	$(PY) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[dev]'
	touch $@

venv: $(STAMP)

# The SAM CLI pins its own boto3/click, so it lives in its own virtualenv.
$(SAMSTAMP):
	$(PY) -m venv $(SAMVENV)
	$(SAMVENV)/bin/pip install -q --upgrade pip
	$(SAMVENV)/bin/pip install -q aws-sam-cli==1.170.0
	touch $@

sam-venv: $(SAMSTAMP)

$(NODESTAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

node-deps: $(NODESTAMP)

dev: $(STAMP) $(NODESTAMP)
	$(VENV)/bin/python -m infra.local --port $(PORT) --demo-port $(DEMO_PORT) --oidc-port $(OIDC_PORT)

# sam-local: the functions under `sam local start-api` (needs Docker; docs/local.md).
sam-local: $(STAMP) $(SAMSTAMP)
	$(VENV)/bin/python -m infra.samlocal --port $(PORT) --sam $(SAMVENV)/bin/sam

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# The core layer under strict mypy (configuration: [tool.mypy] in pyproject.toml).
typecheck: $(STAMP)
	$(VENV)/bin/mypy

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

validate: $(STAMP) $(SAMSTAMP)
	AWS_DEFAULT_REGION=us-east-1 $(SAMVENV)/bin/sam validate --lint --template template.yaml
	$(VENV)/bin/cfn-lint template.yaml

# The local runtime's own tests start moto inside the pytest process; they run in their
# own pytest invocation so they never share moto's in-process state with the core's
# unit tests.
test: $(STAMP) $(SAMSTAMP) $(NODESTAMP) lint typecheck validate
	$(VENV)/bin/pytest -n $(TEST_WORKERS) --ignore=tests/unit/test_local_runtime.py
	$(VENV)/bin/pytest -n auto tests/unit/test_local_runtime.py

bench: $(STAMP)
	$(VENV)/bin/python bench/cold_start.py

clean:
	rm -rf $(VENV) $(SAMVENV) node_modules .aws-sam .pytest_cache .mypy_cache .portcullis-sam
