# Two commands do all set-up: `make run` (open the app on the demo project) and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.medseg-installed

.PHONY: run test demo bench clean package package-test

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "Installing medseg_gui and its dependencies into $(VENV) (minutes the first time; log: $(VENV)/install.log)"
	@{ $(BIN)/python -m pip install --upgrade pip && $(BIN)/python -m pip install -e '.[test]'; } \
	  > $(VENV)/install.log 2>&1 || { tail -n 30 $(VENV)/install.log; echo "Installing failed; full log: $(VENV)/install.log"; exit 1; }
	@touch $(STAMP)

# the same test as medseg-gui's own (app.no_display): QT_QPA_PLATFORM names another platform (offscreen, vnc, eglfs)
run: $(STAMP)
	@if [ "$$(uname)" = Linux ] && [ -z "$$DISPLAY" ] && [ -z "$$WAYLAND_DISPLAY" ] && [ -z "$$QT_QPA_PLATFORM" ]; then \
	  echo "make run: no display found (DISPLAY and WAYLAND_DISPLAY are unset), so the window cannot open here."; \
	  echo "Run the headless demo instead (trains on the demo, writes masks, overlays and a report):"; \
	  echo "    $(BIN)/medseg demo --out demo_out      (or: make demo)"; \
	else \
	  $(BIN)/medseg-gui; \
	fi

test: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q -n 2

demo: $(STAMP)
	$(BIN)/medseg demo --out demo_out

bench: $(STAMP)
	$(BIN)/python bench/chase.py

# Desktop package (packaging/README.md): dist/medseg/ holds medseg-gui and medseg, no Python needed. Slow (minutes),
# so not part of `make test`. PyInstaller's output goes to build/pyinstaller.log.
PACKAGED   := dist/medseg/medseg
PKG_STAMP  := $(VENV)/.medseg-package-installed
PKG_INPUTS := pyproject.toml LICENSE README.md \
  $(shell find medseg_gui resources packaging docs -type f -not -path '*/__pycache__/*' 2>/dev/null)

$(PKG_STAMP): $(STAMP)
	@echo "Installing PyInstaller into $(VENV) (log: $(VENV)/install.log)"
	@$(BIN)/python -m pip install -e '.[test,package]' >> $(VENV)/install.log 2>&1 \
	  || { tail -n 30 $(VENV)/install.log; echo "Installing PyInstaller failed; full log: $(VENV)/install.log"; exit 1; }
	@touch $(PKG_STAMP)

$(PACKAGED): $(PKG_STAMP) $(PKG_INPUTS)
	@mkdir -p build
	@echo "Building dist/medseg/ with PyInstaller (a few minutes; log: build/pyinstaller.log)"
	@start=$$(date +%s); \
	  nice -n 10 $(BIN)/pyinstaller --noconfirm --distpath dist --workpath build/pyinstaller \
	    packaging/medseg.spec > build/pyinstaller.log 2>&1 \
	  || { tail -n 30 build/pyinstaller.log; echo "PyInstaller failed; full log: build/pyinstaller.log"; exit 1; }; \
	  touch $(PACKAGED); \
	  echo "Built dist/medseg/ in $$(( $$(date +%s) - start ))s: $$(du -sh dist/medseg | cut -f1)," \
	    "run dist/medseg/medseg-gui (window) or dist/medseg/medseg (command line)"

package: $(PACKAGED)

package-test: $(PACKAGED)
	@bash packaging/package_test.sh dist/medseg

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache
