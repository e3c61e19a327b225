# The two commands of the README: `make serve` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
INDEX  ?= index_data
PORT   ?= 8000
WORKERS ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: serve test install demo-index lint browser-deps clean

$(BIN)/vnsearch: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(BIN)/vnsearch

demo-index: install
	$(BIN)/vnsearch index demo/articles.jsonl demo/portal --index $(INDEX) --quiet || test $$? -eq 1

serve: demo-index
	VNSEARCH_INDEX=$(INDEX) $(BIN)/gunicorn 'api:get_app()' --bind 127.0.0.1:$(PORT) --workers $(WORKERS) --preload

# Debian's Chromium for the browser test (Playwright drives it; it never downloads a browser)
browser-deps:
	test -x /usr/bin/chromium || (command -v apt-get >/dev/null && \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) || \
	  echo "chromium not installed: the browser test will be skipped")

test: install browser-deps
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q

lint: install
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) $(INDEX)/gen-* $(INDEX)/current $(INDEX)/*.sqlite* $(INDEX)/meta.json
