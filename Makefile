# Forge Studio — every target sets itself up on first use.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck pytest bench clean bundle bundle-test bundle-tools

# --no-compile: pip would byte-compile all ~11,000 .py files of the dependencies (~20 s of
# CPU on a fresh machine); Python compiles the modules actually imported on first use.
# The pip a new venv comes with (23.2 for Python 3.11.7) installs all of it: no self-upgrade.
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || { command -v $(PY) >/dev/null 2>&1 && $(PY) -m venv $(VENV) || python3 -m venv $(VENV); }
	$(BIN)/python -m pip install --quiet --no-compile --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/studio $(ARGS)

# lint and typecheck (one process each) run beside pytest; make fails if any of the three
# fails. pytest runs on PYTEST_JOBS pytest-xdist workers (PYTEST_JOBS=0: in one process).
PYTEST_JOBS ?= 2

test: $(STAMP)
	$(MAKE) -j3 --output-sync=target lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check studio workers tests bench
	$(BIN)/ruff format --check studio workers tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/pytest -n $(PYTEST_JOBS) $(PYTEST_ARGS)

# ---- the desktop bundle (packaging/): PyInstaller one-folder + the tarball
BUNDLE_TOOLS := desktop-file-utils appstream gcc

# desktop-file-validate and appstreamcli, for the validation tests, and a C compiler for the
# bundle's encoder stand-ins (packaging/stub_encoders.py) (as root on Debian/Ubuntu:
#   apt-get install -y desktop-file-utils appstream gcc)
bundle-tools:
	@command -v desktop-file-validate >/dev/null 2>&1 && command -v appstreamcli >/dev/null 2>&1 && \
	  command -v cc >/dev/null 2>&1 || \
	{ if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(BUNDLE_TOOLS) >/dev/null; \
	  else echo "bundle: please install $(BUNDLE_TOOLS) (sudo apt-get install -y $(BUNDLE_TOOLS))"; exit 1; fi; }

# CPU-heavy: built with nice. Prints the bundle's size and the tarball's.
bundle: $(STAMP) bundle-tools
	@$(BIN)/python -c "import PyInstaller" 2>/dev/null || $(BIN)/python -m pip install --quiet -e '.[dev,bundle]'
	nice -n 10 $(BIN)/python -m PyInstaller --noconfirm --log-level WARN \
	  --distpath dist/bundle --workpath build/pyinstaller packaging/forge-studio.spec
	QT_QPA_PLATFORM=offscreen $(BIN)/python packaging/make_dist.py

# the bundle's smoke tests (tests marked `bundle`; `make test` skips them)
bundle-test: $(STAMP) bundle-tools
	@test -x dist/bundle/forge-studio/studio || $(MAKE) bundle
	QT_QPA_PLATFORM=offscreen STUDIO_BUNDLE=1 $(BIN)/pytest -m bundle $(PYTEST_ARGS) tests/bundle

bench: $(STAMP)
	@failed=""; for b in bench/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || failed="$$failed $$b"; done; \
	if [ -n "$$failed" ]; then echo "missed targets in:$$failed"; exit 1; fi; echo "every bench met its targets"

clean:
	rm -rf $(VENV) build dist *.egg-info
