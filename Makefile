# Two commands do all set-up: `make run` (open the app on the demo project) and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.medseg-installed

.PHONY: run test demo bench clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "Installing medseg_gui and its dependencies into $(VENV) (minutes the first time; log: $(VENV)/install.log)"
	@{ $(BIN)/python -m pip install --upgrade pip && $(BIN)/python -m pip install -e '.[test]'; } \
	  > $(VENV)/install.log 2>&1 || { tail -n 30 $(VENV)/install.log; echo "Installing failed; full log: $(VENV)/install.log"; exit 1; }
	@touch $(STAMP)

run: $(STAMP)
	@if [ "$$(uname)" = Linux ] && [ -z "$$DISPLAY" ] && [ -z "$$WAYLAND_DISPLAY" ]; then \
	  echo "make run: no display found (DISPLAY and WAYLAND_DISPLAY are unset), so the window cannot open here."; \
	  echo "Run the headless demo instead (trains on the demo, writes masks, overlays and a report):"; \
	  echo "    $(BIN)/medseg demo --out demo_out      (or: make demo)"; \
	else \
	  $(BIN)/medseg-gui; \
	fi

test: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q

demo: $(STAMP)
	$(BIN)/medseg demo --out demo_out

bench: $(STAMP)
	$(BIN)/python bench/chase.py

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache
