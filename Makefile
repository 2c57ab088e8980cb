# Insieme: developer entry points.
#
#   make run     build what changed (frontend and server) and start a node on http://localhost:8080
#                with the embedded store in ./data; needs only Go and Node.js (>= 20.19) with npm
#   make build   frontend + bin/insieme          make test    every test, as CI runs it (.ci/run)
#   make static  the release binary, as the Dockerfile builds it
#   make bench   Go benchmarks, then bench-live  make fmt / make lint / make clean
#
# Settings come from environment variables: config/insieme.example.env lists them all.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := run
.DELETE_ON_ERROR:
MAKEFLAGS += --no-builtin-rules

GO  ?= go
NPM ?= npm
NPM_CI_FLAGS ?= --no-audit --no-fund
# Extra arguments for `make run`, e.g. make run ARGS='--help'.
ARGS ?=

BIN := bin/insieme

# npm writes node_modules/.package-lock.json on every install; it is our "dependencies are
# installed" marker, so npm ci runs when node_modules is missing or older than the lock file.
NODE_MODULES := frontend/node_modules/.package-lock.json

# Everything the Vite build reads. Folders are listed too, so a deleted file triggers a build.
FRONTEND_SRC := $(shell find frontend/src frontend/public 2>/dev/null) \
	$(wildcard frontend/index.html frontend/package.json frontend/package-lock.json \
	  frontend/vite.config.* frontend/svelte.config.* frontend/tsconfig*.json)

# This stamp (in the ignored bin/) records a finished build; a missing dist/assets forces a build
# as well. Only frontend/dist/.gitkeep is committed.
FRONTEND_STAMP := bin/.frontend-built

# Go sources: go build decides itself what is stale, so binaries are always handed to it.
GO_FILES = $(shell find . \( -name node_modules -o -name '.?*' -o -path ./data -o -path ./bin \) -prune \
	-o -type f -name '*.go' -print)

.PHONY: run build frontend static test bench bench-live clean fmt lint help FORCE \
	test-vet test-go test-frontend test-static test-e2e

help:
	@sed -n '2,10p' Makefile | sed 's/^# \{0,1\}//'

## run: build what changed, then start a node (embedded store, in-process broker by default).
run: build
	./$(BIN) serve $(ARGS)

## build: the frontend and bin/insieme (which embeds frontend/dist).
build: $(BIN)

frontend: $(FRONTEND_STAMP)

$(NODE_MODULES): frontend/package.json frontend/package-lock.json
	@echo '==> installing frontend dependencies (npm ci)'
	cd frontend && $(NPM) ci $(NPM_CI_FLAGS)
	@touch $@

$(FRONTEND_STAMP): $(NODE_MODULES) $(FRONTEND_SRC) $(if $(wildcard frontend/dist/assets/*),,FORCE)
	@echo '==> building the frontend (npm run build)'
	cd frontend && $(NPM) run build
	@mkdir -p $(@D)
	@touch $@

$(BIN): $(FRONTEND_STAMP) FORCE
	$(GO) build -o $@ ./cmd/insieme

## static: the release binary. KEEP THIS COMMAND IDENTICAL to the `go build` in deploy/Dockerfile:
## internal/config/config_test.go (TestStaticBuildMatchesDockerfile) fails when they differ.
static: $(FRONTEND_STAMP)
	CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o bin/insieme-static ./cmd/insieme

## test: every test, in order, going on after a failure and naming the failed steps at the end
## (FAIL_FAST=1 stops at the first). Each step is also a target: make test-go, make test-e2e, ...
TEST_STEPS := vet go frontend static e2e
test:
	@failed=""; begin=$$(date +%s); \
	for step in $(TEST_STEPS); do \
	  printf '\n======== make test: step "%s" ========\n' "$$step"; \
	  t0=$$(date +%s); \
	  if $(MAKE) --no-print-directory test-$$step; then \
	    printf '======== step "%s" passed (%ds) ========\n' "$$step" $$(( $$(date +%s) - t0 )); \
	  else \
	    printf '======== step "%s" FAILED (%ds) ========\n' "$$step" $$(( $$(date +%s) - t0 )) >&2; \
	    failed="$$failed $$step"; \
	    if [ -n "$(FAIL_FAST)" ]; then break; fi; \
	  fi; \
	done; \
	took=$$(( $$(date +%s) - begin )); \
	if [ -n "$$failed" ]; then \
	  printf '\nmake test: FAILED step(s):%s (see "step ... FAILED" above; re-run one with make test-<step>); %ds in all\n' "$$failed" $$took >&2; \
	  exit 1; \
	fi; \
	printf '\nmake test: every step passed (%s) in %ds\n' "$(TEST_STEPS)" $$took

test-vet:
	$(GO) vet ./...

test-go:
	$(GO) test -race -count=1 -timeout 15m ./...

test-frontend: $(NODE_MODULES)
	cd frontend && $(NPM) test

test-static:
	$(MAKE) --no-print-directory static

# Browser tests run bin/insieme (with the built frontend embedded) and Debian's /usr/bin/chromium.
test-e2e: build
	cd frontend && $(NPM) run e2e

## bench: Go benchmarks, then the live load runs (bench-live).
# BENCH_FERRETDB_PG (a PostgreSQL URL, e.g. postgres://postgres@127.0.0.1:5432/test) adds the
# FerretDB-over-PostgreSQL runs of the forum read benchmarks.
bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 300x ./...
	$(MAKE) --no-print-directory bench-live

## bench-live: cmd/loadgen's live-session scenarios against fresh nodes (long; needs Redis for
## saturation and the two-node ones: the local one, or a redis-server it starts). Settings and a smoke run: see the top of scripts/bench-live.sh.
bench-live:
	GO=$(GO) scripts/bench-live.sh

fmt:
	gofmt -w $(GO_FILES)

lint:
	$(GO) vet ./...
	@unformatted="$$(gofmt -l $(GO_FILES))"; \
	if [ -n "$$unformatted" ]; then \
	  echo 'gofmt: these files need formatting (run make fmt):' >&2; echo "$$unformatted" >&2; exit 1; \
	fi

## clean: build outputs only; keeps ./data (the embedded store) and frontend/node_modules.
clean:
	rm -rf bin frontend/dist/assets frontend/dist/index.html frontend/test-results frontend/e2e/screenshots

FORCE:
