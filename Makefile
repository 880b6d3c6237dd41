# os1 — run `make run` to start, `make test` to run every test.
SHELL := /bin/bash
export PATH := $(PATH):/usr/local/go/bin
GO ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X github.com/os1ai/os1/internal/cli.Version=$(VERSION)
BIN := bin/os1

.PHONY: run build test test-fast check vet fmt bench deps-run deps-test clean

## run: install what is missing, build, and start os1 on 127.0.0.1:7810
run: deps-run build
	./$(BIN) serve

## build: a static, pure-Go binary in bin/os1
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/os1

## test: install test dependencies (chromium), then vet, format check, pure-Go build, all tests with -race
test: deps-test check
	OS1_E2E_REQUIRE=1 $(GO) test -race -shuffle=on -timeout 30m -count=1 ./...

## test-fast: the inner loop — every package but the browser/binary journeys (internal/e2e), no -race, cached
test-fast:
	$(GO) test $$($(GO) list ./... | grep -v /internal/e2e)

check: vet fmt
	CGO_ENABLED=0 $(GO) build ./...

vet:
	$(GO) vet ./...

fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

## bench: benchmarks (numbers, never pass/fail)
bench: build
	$(GO) test -run '^$$' -bench . -benchmem ./internal/server/ ./internal/llm/
	$(GO) run ./bench/startup -bin ./$(BIN)
	$(GO) run ./bench/login -bin ./$(BIN)

deps-run:
	@scripts/deps.sh run
	@scripts/assets.sh model

deps-test:
	@scripts/deps.sh test
	@scripts/assets.sh test

clean:
	rm -rf bin
