# scimbridge — build, run, test, benchmark.
GO      ?= go
BIN     := bin/scimbridge
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo devel)
LDFLAGS := -s -w -X main.buildVersion=$(VERSION)
CONFIG  ?= examples/scimbridge.yaml

.PHONY: build run test lint fuzz bench screenshots clean

build: ## build bin/scimbridge
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/scimbridge

run: build ## run scimbridge on the embedded SQLite default with the example config
	./$(BIN) serve -config $(CONFIG)

test: ## run every test (race detector on)
	$(GO) test -race -count=1 ./...

# go test -fuzz takes one package and one target at a time:
# package:target:executions. Each runs for a count of executions (about
# ten seconds here) rather than a time: Go 1.26 can fail a target with a
# bare "context deadline exceeded" when a time budget ends mid-execution
# (go.dev/issue/75804, fixed in Go 1.27). FUZZTIME=30s, say, runs each
# for that long instead.
FUZZTIME ?=
FUZZ_TARGETS := ./scim/query:FuzzParseFilter:10000 ./scim/store/sqlite:FuzzFilterSQL:25000 \
	./scim/patch:FuzzParseApply:150000 ./scim/compat:FuzzResource:60000 ./adapters/reconcile:FuzzParse:250000

fuzz: ## run each fuzz target briefly (or for FUZZTIME); failures land in the package's testdata/fuzz
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; rest=$${t#*:}; name=$${rest%%:*}; budget=$${rest#*:}x; \
		if [ -n "$(FUZZTIME)" ]; then budget=$(FUZZTIME); fi; \
		echo "fuzz: $$name in $$pkg for $$budget"; \
		$(GO) test -run '^$$' -fuzz "^$$name$$" -fuzztime $$budget "$$pkg"; \
	done

lint: ## gofmt and go vet
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

bench: build ## load-test the real binary on loopback and print the results table
	$(GO) run ./cmd/scimbench -binary $(BIN)

screenshots: ## save the console's pages, as the browser test sees them, in docs/screenshots
	SCIMBRIDGE_SCREENSHOTS=$(CURDIR)/docs/screenshots SCIMBRIDGE_REQUIRE_BROWSER=1 $(GO) test -count=1 -run TestConsoleInBrowser ./cmd/scimbridge

clean:
	rm -rf bin .bench
