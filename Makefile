# mv: `make demo` runs the main job on built-in example data, `make test` runs every test.
# Both install what is missing (libgit2-dev via apt; Python test tools via pip) first.

SWIFT   ?= swift
PREFIX  ?= /usr/local
BIN     := .build/debug/mv

.PHONY: all build release deps test-deps demo test screenshot lint format install uninstall clean

all: build

deps:
	@.ci/install-deps

test-deps:
	@.ci/install-deps --test

build: deps
	$(SWIFT) build --product mv

release: deps
	$(SWIFT) build -c release --product mv --static-swift-stdlib

test: test-deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --disable-swift-testing

# The README's picture of a report: the browser test renders its page in headless Chromium
# and keeps the PNG.
screenshot: test-deps
	$(SWIFT) build --build-tests
	MV_SCREENSHOT_OUT="$(CURDIR)/docs/report-screenshot.png" $(SWIFT) test --skip-build --disable-swift-testing \
		--filter ReportBrowserTests/testTheReportRendersInChromium

# Style is checked, not discussed: .swift-format (swift format ships with the Swift 6
# toolchain). `make format` rewrites the tree to it; `make lint` fails on any difference.
FORMAT_PATHS := Sources Tests Package.swift

lint:
	$(SWIFT) format lint --strict --recursive --parallel $(FORMAT_PATHS)

format:
	$(SWIFT) format --in-place --recursive --parallel $(FORMAT_PATHS)

# Three versions of a model trained on y = 3x + 2 + noise (the seed article's example),
# in a fresh temporary repository that is left in place for you to explore; the best is
# promoted, served, and monitored on data that drifted; the page of its history is written last.
demo: build
	@set -e; \
	mv_bin="$(CURDIR)/$(BIN)"; \
	repo=$$(mktemp -d /tmp/mv-demo.XXXXXX); \
	cd "$$repo"; \
	git init -q -b main .; \
	git config user.name >/dev/null || git config user.name "mv demo"; \
	git config user.email >/dev/null || git config user.email "demo@example.com"; \
	echo "== mv init in $$repo"; "$$mv_bin" init; \
	"$$mv_bin" example-data --rows 100 --seed 1 -o data/train-small.csv; \
	"$$mv_bin" example-data --rows 1000 --seed 2 -o data/train.csv; \
	"$$mv_bin" example-data --rows 5000 --seed 3 --noise 0.25 -o data/train-large.csv; \
	echo; echo "== v1: 100 rows";  "$$mv_bin" train demo --data data/train-small.csv --target y; \
	echo; echo "== v2: 1000 rows"; "$$mv_bin" train demo --data data/train.csv --target y; \
	echo; echo "== v3: 5000 rows, less noise, another split seed"; "$$mv_bin" train demo --data data/train-large.csv --target y --seed 7; \
	echo; echo "== mv log demo"; "$$mv_bin" log demo; \
	echo; echo "== git log --oneline --decorate"; git --no-pager log --oneline --decorate; \
	echo; echo "== git show --stat demo@v3.0.0"; git --no-pager show --stat demo@v3.0.0; \
	echo; echo "== mv promote demo@v3, then mv serve and one request"; "$$mv_bin" promote demo@v3; \
	"$$mv_bin" serve --port 0 > serve.out 2> serve.log & server=$$!; \
	for i in $$(seq 100); do grep -q listening serve.out 2>/dev/null && break; sleep 0.1; done; \
	address=$$(sed -n 's/^mv serve: listening on //p' serve.out); \
	echo "POST $$address/invocations  {\"dataframe_split\": {\"columns\": [\"x\"], \"data\": [[1.5], [4]]}}"; \
	curl -s -D - "$$address/invocations" -H 'Content-Type: application/json' \
	     -d '{"dataframe_split": {"columns": ["x"], "data": [[1.5], [4]]}}' | grep -E '^(X-Model|\{)'; echo; \
	kill -TERM $$server; wait $$server; rm -f serve.out serve.log; \
	echo; echo "== tomorrow's data has drifted (x moved by 3, y did not follow): mv monitor commits the verdict"; \
	awk -F, 'NR == 1 { print; next } { printf "%.6f,%s\n", $$1 + 3, $$2 }' data/train.csv > data/tomorrow.csv; \
	"$$mv_bin" monitor demo --data data/tomorrow.csv || echo "(exit $$?: the policy is breached; a scheduled job would alert or run mv retrain)"; \
	echo; echo "== mv report: the model's history as one HTML page"; "$$mv_bin" report demo -o report.html; \
	echo; echo "The demo repository is $$repo; open $$repo/report.html in a browser"

install: release
	install -d "$(DESTDIR)$(PREFIX)/bin"
	install -m 0755 .build/release/mv "$(DESTDIR)$(PREFIX)/bin/git-model"

uninstall:
	rm -f "$(DESTDIR)$(PREFIX)/bin/git-model"

clean:
	rm -rf .build
