# livesign — build, test and demo targets. `make` builds bin/coredns and bin/livesign.
GO    ?= go
BIN   ?= bin
GOFMT ?= gofmt

# CI=true makes missing test tools fail the tests instead of skipping them
# (internal/validators.Require); pass it through to go test.
export CI

# Runs gofmt with the given flags on every Go file outside testdata/ and hidden directories
# (never with no file: gofmt would read stdin).
GOFMT_ALL = find . -name '*.go' -not -path '*/testdata/*' -not -path './.*' -exec $(GOFMT)

.DEFAULT_GOAL := build

.PHONY: build test run bench fmt vet clean

build:
	@mkdir -p $(BIN)
	$(GO) build -o $(BIN)/coredns ./cmd/coredns
	$(GO) build -o $(BIN)/livesign ./cmd/livesign

# Installs the validators (unbound, delv, ...) when missing, then vet, format check, race tests.
test:
	scripts/install-test-tools.sh
	$(GO) vet ./...
	@unformatted="$$($(GOFMT_ALL) -l {} +)"; \
	if [ -n "$$unformatted" ]; then \
		echo "gofmt needed on:"; echo "$$unformatted"; exit 1; \
	fi
	$(GO) test -race -count=1 -timeout 30m ./...

run: build
	scripts/demo.sh

bench:
	scripts/bench.sh

fmt:
	$(GOFMT_ALL) -w {} +

vet:
	$(GO) vet ./...

clean:
	rm -rf $(BIN) .demo
