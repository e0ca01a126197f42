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

# go test -fuzz takes one package and one target at a time: package:target.
FUZZTIME ?= 10s
FUZZ_TARGETS := ./scim/query:FuzzParseFilter ./scim/store/sqlite:FuzzFilterSQL ./scim/patch:FuzzParseApply \
	./scim/compat:FuzzResource ./adapters/reconcile:FuzzParse

fuzz: ## run each fuzz target for FUZZTIME (default 10s); failures land in the package's testdata/fuzz
	@set -e; for t in $(FUZZ_TARGETS); do \
		echo "fuzz: $${t##*:} in $${t%%:*} for $(FUZZTIME)"; \
		$(GO) test -run '^$$' -fuzz "^$${t##*:}$$" -fuzztime $(FUZZTIME) "$${t%%:*}"; \
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
