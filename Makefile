# plantsite: `make run` starts the service, `make test` runs the test suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check -q
PORT ?= 8000
PYTEST_ARGS ?=
BENCH_DATA ?=

.PHONY: help install install-dev run test lint types-baseline format chromium fonts migrate superuser bench bench-quick clean

help:
	@echo "make run          start the service on http://127.0.0.1:$(PORT)/ (installs on first use)"
	@echo "make test         lint, then run the whole test suite (installs the dev requirements)"
	@echo "make lint         ruff (lint + format check), the import contracts and mypy against mypy-baseline.txt"
	@echo "make format       rewrite the code with ruff's fixes and formatter"
	@echo "make superuser    create an admin account"
	@echo "make fonts        install a CJK font, so Chinese class names show in the training plots"
	@echo "make bench        run the benchmarks in bench/ (needs ../shared/datasets); fails when a target is not met"
	@echo "make bench-quick  a few minutes: the benchmarks as smoke runs (figures printed, targets judged by make bench)"
	@echo "make clean        remove the virtual environment (your data in var/ stays)"

$(PY):
	$(PYTHON) -m venv $(VENV)

# Reinstall only when a requirements file changed: a second `make run` starts in seconds.
$(VENV)/.installed: requirements.txt | $(PY)
	$(PIP) install -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt $(VENV)/.installed
	$(PIP) install -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

migrate: install
	$(PY) manage.py migrate --noinput

run: migrate
	$(PY) manage.py collectstatic --noinput -v 0
	exec $(PY) -m plantsite.launcher --port $(PORT)

superuser: migrate
	$(PY) manage.py createsuperuser

# Browser tests need Debian's chromium: installed here when we are root, else those tests skip.
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing Debian chromium for the browser tests"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	      || echo "could not install chromium: browser tests will be skipped"; \
	  else echo "no /usr/bin/chromium and not root: browser tests will be skipped (apt-get install chromium)"; fi; \
	fi

# Plots of Chinese class names need a CJK font (Debian's fonts-noto-cjk or fonts-wqy-microhei).
fonts:
	@if fc-list :lang=zh 2>/dev/null | grep -q .; then echo "a CJK font is installed: $$(fc-list :lang=zh family | head -1)"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-noto-cjk >/dev/null) \
	    || echo "could not install fonts-noto-cjk: Chinese class names will show as empty boxes in plots"; \
	else echo "no CJK font: run 'sudo apt-get install fonts-noto-cjk' (or fonts-wqy-microhei) for Chinese class names in plots"; fi

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy | $(VENV)/bin/mypy-baseline filter --no-colors --hide-stats

# After fixing type errors: rewrite mypy-baseline.txt without them (it may only shrink).
types-baseline: install-dev
	$(VENV)/bin/mypy | $(VENV)/bin/mypy-baseline sync --sort-baseline

format: install-dev
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

test: lint chromium
	$(PY) -m plantsite.broker -- $(PY) -m pytest $(PYTEST_ARGS)

bench: install-dev
	$(PY) -m plantsite.broker -- bash -c 'for b in bench/*.py; do $(PY) $$b || exit 1; done'

# CI's subset: the speed target is judged; the --quick training runs only prove the benchmarks still run.
bench-quick: install-dev
	$(PY) bench/train_speed.py --input-size 96 --batch-size 16 --steps 4 --rounds 5 --no-judge
	$(PY) bench/train_flowers5.py $(BENCH_DATA) --quick --epochs 1 --head-epochs 1 --workers 0
	$(PY) bench/longtail.py $(BENCH_DATA) --quick --seeds 2
	$(PY) bench/open_set.py $(BENCH_DATA) --quick

clean:
	rm -rf $(VENV)
