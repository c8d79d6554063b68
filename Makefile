PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed

.PHONY: install demo test test-slow lint type bench evaluate clean browser model

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(PY) pyproject.toml constraints.txt
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(VENV)/bin/isched demo

# Two processes, one per core; each test file stays in one process (its fixtures run once).
TEST_WORKERS ?= 2
test: install
	$(PY) -m pytest -q -n $(TEST_WORKERS) --dist loadfile

# Chromium for the browser test (tests/test_web_browser.py), from Debian; nothing when present.
browser:
	@if command -v chromium >/dev/null 2>&1; then echo "chromium: $$(command -v chromium)"; \
	else SUDO=$$([ "$$(id -u)" -eq 0 ] || echo sudo); \
	$$SUDO apt-get update -qq && $$SUDO apt-get install -y --no-install-recommends chromium; fi

test-slow: install
	$(PY) -m pytest -q -m slow

lint: install
	$(VENV)/bin/ruff check scheduler envs policies experiments isched tests benchmarks
	$(VENV)/bin/ruff format --check scheduler envs policies experiments isched tests benchmarks

type: install
	$(VENV)/bin/mypy --ignore-missing-imports scheduler envs policies experiments isched

bench: install
	$(PY) benchmarks/env_throughput.py
	$(PY) benchmarks/solve_scaling.py
	$(PY) benchmarks/web_load.py
	$(PY) benchmarks/decision_latency.py
	$(PY) benchmarks/train_throughput.py

evaluate: install
	$(VENV)/bin/isched compare experiments/configs/headline.yaml --out out/headline --workers 2
	$(PY) -m experiments.readme out/headline

# The shipped model, rebuilt from scratch (models/default/README.md: the model card).
# Tuning seeds only (2000-2059); one process, one torch thread.
MODEL_DATA := out/model_data
model: install
	rm -rf $(MODEL_DATA)
	$(VENV)/bin/isched collect --scenario default --behavior greedy_fit,greedy_fit+eps0.2,cpsat \
		--epsilon 0 --episodes 20 --seed 2000 --jobs 1 --out $(MODEL_DATA)
	rm -f models/default/model.pt models/default/config.json models/default/train_log.csv
	$(VENV)/bin/isched train $(MODEL_DATA) --algo iql --steps 5000 --seed 0 --threads 1 \
		--out models/default

clean:
	rm -rf $(VENV) build *.egg-info
