# scimbridge — build, run, test, benchmark.
GO      ?= go
BIN     := bin/scimbridge
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo devel)
LDFLAGS := -s -w -X main.buildVersion=$(VERSION)
CONFIG  ?= examples/scimbridge.yaml

.PHONY: build run test lint bench clean

build: ## build bin/scimbridge
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/scimbridge

run: build ## run scimbridge on the embedded SQLite default with the example config
	./$(BIN) serve -config $(CONFIG)

test: ## run every test (race detector on)
	$(GO) test -race -count=1 ./...

lint: ## gofmt and go vet
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

bench: build ## load-test the real binary on loopback and print the results table
	$(GO) run ./cmd/scimbench -binary $(BIN)

clean:
	rm -rf bin .bench
