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

.PHONY: build test run bench fmt vet clean coredns-upstream image docs

build:
	@mkdir -p $(BIN)
	$(GO) build -o $(BIN)/coredns ./cmd/coredns
	$(GO) build -o $(BIN)/livesign ./cmd/livesign

# Installs the validators (unbound, delv, ...) when missing, then vet, format check, race tests
# (./... holds the unit tests beside the code and the system tests under test/), then every fuzz
# target for FUZZTIME (default 30s) each (scripts/fuzz.sh).
test:
	scripts/install-test-tools.sh
	$(GO) vet ./...
	@unformatted="$$($(GOFMT_ALL) -l {} +)"; \
	if [ -n "$$unformatted" ]; then \
		echo "gofmt needed on:"; echo "$$unformatted"; exit 1; \
	fi
	$(GO) test -race -count=1 -timeout 30m ./...
	GO=$(GO) scripts/fuzz.sh
	cd deploy && $(GO) test -count=1 -timeout 5m ./...

# Upstream CoreDNS (the version in go.mod, from the Go module cache) with
# livesign:github.com/livesign/livesign added to its plugin.cfg after dnssec:dnssec and a replace
# pointing at this checkout; see deploy/upstream/build-coredns.sh.
coredns-upstream:
	deploy/upstream/build-coredns.sh $(BIN)/coredns-upstream

# The container image of Dockerfile: a static cmd/coredns in bin/image/coredns with the file
# capability to bind :53 as non-root, built with docker when its daemon answers, else podman.
# SETCAP='sudo setcap' when not root; SETCAP= skips it (the image then binds :53 only where
# net.ipv4.ip_unprivileged_port_start=0, as Docker sets by default).
IMAGE     ?= livesign-coredns:latest
SETCAP    ?= $(shell command -v setcap || echo /usr/sbin/setcap)
CONTAINER ?= $(shell if docker info >/dev/null 2>&1; then echo docker; \
	elif command -v podman >/dev/null 2>&1; then echo podman; else echo docker; fi)

image:
	@mkdir -p bin/image
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags='-s -w' -o bin/image/coredns ./cmd/coredns
	@if [ -n "$(SETCAP)" ]; then \
		echo "$(SETCAP) cap_net_bind_service=+ep bin/image/coredns"; \
		$(SETCAP) cap_net_bind_service=+ep bin/image/coredns || { \
			echo "make image: setcap failed: run as root, or SETCAP='sudo setcap', or SETCAP= to skip"; exit 1; }; \
	fi
	$(CONTAINER) build -t $(IMAGE) .

# Redraws docs/timeline.svg, the README's picture, from the 90-day SKR fixture made by
# livesign keygen, plan and sign-ksr (cmd/livesign/testdata/timeline90d); TestDocsTimeline
# fails when it is stale. git does not keep the .private files' mode 0600 that check requires.
TIMELINE90D = cmd/livesign/testdata/timeline90d
docs:
	chmod 600 $(TIMELINE90D)/zsk/*.private
	$(GO) run ./cmd/livesign check -keys $(TIMELINE90D)/zsk -bundle $(TIMELINE90D)/example.org.skr \
		-trust-anchor $(TIMELINE90D)/example.org.ds -at 20270110000000 -svg docs/timeline.svg >/dev/null

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
