# Two entry points do all set-up on a fresh machine: `make serve` and `make test`.
VENV   ?= .venv
PY     := $(VENV)/bin/python
HOST   ?= 127.0.0.1
PORT   ?= 5006
# The pinned CPU wheel installs from local disk here; elsewhere the range in pyproject applies.
TORCH  ?= torch==2.13.0

.PHONY: serve test test-fast install bench bench-quick soak clean

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q "$(TORCH)" || $(PY) -m pip install -q "torch>=2.4"
	$(PY) -m pip install -q -e ".[test]"
	touch $@

install: $(VENV)/.installed

# Binds to localhost only; see docs/serving.md before exposing it. At most MAX_TRAINERS
# sessions train at once (default: one per core); the others wait in line. /liveness: a health check.
MAX_TRAINERS ?=
serve: install
	SANDBOX_MAX_TRAINERS=$(MAX_TRAINERS) $(VENV)/bin/panel serve apps/*.py --index index \
	  --address $(HOST) --port $(PORT) --allow-websocket-origin=$(HOST):$(PORT) \
	  --allow-websocket-origin=localhost:$(PORT) --liveness --setup sandbox/serving/serve_setup.py

# The whole suite: fast, slow (phenomena) and ui (browser) tiers.
test: install
	$(PY) -m pytest -v --durations=10 -n 2 --dist loadfile -m "not ui"
	$(PY) -m pytest -v --durations=5 -m ui

# What a developer runs while iterating.
test-fast: install
	$(PY) -m pytest -q -m "not slow and not ui"

clean:
	rm -rf $(VENV) runs tests/artifacts

# Reported figures (not a test), recorded in benchmarks/RESULTS.md: per study, steps/s of the bare
# loop, the Runner and the served app with Chromium; snapshot cost, bytes per update, peak RSS.
bench: install
	$(PY) -m benchmarks.study_speed
	$(PY) -m benchmarks.step_variants
	$(PY) -m benchmarks.landscape_cost
	$(PY) -m benchmarks.ensemble_speed
	$(PY) -m benchmarks.grokking_speed

# The same scripts with tiny windows: checks that they work (CI runs it inside make test).
bench-quick: install
	$(PY) -m benchmarks.study_speed --quick
	$(PY) -m benchmarks.step_variants --steps 20 --skip "torch.compile(model)"

# A bounded soak (SOAK_MINUTES, default 10): one session trains with every view streaming; prints the
# server's RSS and thread count over time, then after the tab closes. Figures in RELIABILITY.md.
SOAK_MINUTES ?= 10
soak: install
	$(PY) -m benchmarks.soak --minutes $(SOAK_MINUTES)
