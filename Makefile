# Two commands do all set-up: `make run` (open the app on the demo project) and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.medseg-installed

.PHONY: run test demo bench clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

run: $(STAMP)
	@if [ "$$(uname)" = Linux ] && [ -z "$$DISPLAY" ] && [ -z "$$WAYLAND_DISPLAY" ]; then \
	  echo "make run: no display found (DISPLAY and WAYLAND_DISPLAY are unset), so the window cannot open here."; \
	  echo "Run the headless demo instead (trains on the demo, writes masks, overlays and a report):"; \
	  echo "    $(BIN)/medseg demo --out demo_out      (or: make demo)"; \
	else \
	  $(BIN)/medseg-gui --demo; \
	fi

test: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q

demo: $(STAMP)
	$(BIN)/medseg demo --out demo_out

bench: $(STAMP)
	$(BIN)/python bench/chase.py

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache
