# hf-micro: the commands a developer and CI use. `make help` lists them.
GO      ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)
# Linters are pinned in tools/go.mod, apart from the service's own dependencies.
TOOL    := $(GO) tool -modfile=tools/go.mod

.PHONY: help build run demo test lint fuzz ci

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

build: ## build bin/hf-micro, static, with the version from git
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o bin/hf-micro ./cmd/hf-micro

run: ## serve against HF_ENDPOINT with the token from .env or the environment
	$(GO) run -ldflags "-X main.version=$(VERSION)" ./cmd/hf-micro

demo: ## serve in front of the built-in fake Hub: no account, no network
	$(GO) run -ldflags "-X main.version=$(VERSION)" ./cmd/hf-micro demo

test: ## run every test, with the race detector
	$(GO) test -race ./...

lint: ## gofmt check, go vet, staticcheck
	@unformatted=$$(gofmt -l .); if [ -n "$$unformatted" ]; then echo "gofmt would change:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(TOOL) staticcheck ./...

FUZZTIME ?= 1m
fuzz: ## fuzz request decoding and repository ids, FUZZTIME each
	$(GO) test -run '^$$' -fuzz '^FuzzParseRepoID$$' -fuzztime $(FUZZTIME) ./internal/hub
	$(GO) test -run '^$$' -fuzz '^FuzzCreateRequest$$' -fuzztime $(FUZZTIME) ./internal/server
	$(GO) test -run '^$$' -fuzz '^FuzzUpdateRequest$$' -fuzztime $(FUZZTIME) ./internal/server

ci: ## what CI runs
	bash .ci/run
