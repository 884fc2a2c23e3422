# hf-micro: the commands a developer and CI use. `make help` lists them.
GO      ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)
# Linters are pinned in tools/go.mod, apart from the service's own dependencies.
TOOL    := $(GO) tool -modfile=tools/go.mod

.PHONY: help build run demo test lint fuzz soak ci

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

build: ## build bin/hf-micro, static, with the version from git
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o bin/hf-micro ./cmd/hf-micro

run: ## serve against HF_ENDPOINT with the token from .env or the environment
	$(GO) run -ldflags "-X main.version=$(VERSION)" ./cmd/hf-micro

demo: ## serve in front of the built-in fake Hub: no account, no network
	$(GO) run -ldflags "-X main.version=$(VERSION)" ./cmd/hf-micro demo

# internal/testsummary runs go test -json and shows go test's usual output, then each skipped test with its
# reason; it fails the run on any failure and, under CI=true, on any skip.
test: ## run every test, with the race detector; ends with the skips and their reasons (a failure under CI=true)
	GO=$(GO) $(GO) run ./internal/testsummary -race ./...

lint: ## gofmt check, go vet, staticcheck
	@unformatted=$$(gofmt -l .); if [ -n "$$unformatted" ]; then echo "gofmt would change:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(TOOL) staticcheck ./...

FUZZTIME ?= 1m
fuzz: ## fuzz request decoding, repository ids, the Hub route table, the drop-in rewriting and the access line, FUZZTIME each
	$(GO) test -run '^$$' -fuzz '^FuzzParseRepoID$$' -fuzztime $(FUZZTIME) ./internal/hub
	$(GO) test -run '^$$' -fuzz '^FuzzCreateRequest$$' -fuzztime $(FUZZTIME) ./internal/server
	$(GO) test -run '^$$' -fuzz '^FuzzUpdateRequest$$' -fuzztime $(FUZZTIME) ./internal/server
	$(GO) test -run '^$$' -fuzz '^FuzzRewrite$$' -fuzztime $(FUZZTIME) ./internal/dropin
	$(GO) test -run '^$$' -fuzz '^FuzzFind$$' -fuzztime $(FUZZTIME) ./internal/hubroute
	$(GO) test -run '^$$' -fuzz '^FuzzAccessLine$$' -fuzztime $(FUZZTIME) ./internal/server

SOAK ?= 60s
soak: ## soak the binary: 16 clients, mixed routes, a faulty Hub, for SOAK (default 60s)
	HF_MICRO_SOAK=$(SOAK) $(GO) test -run '^TestSoak$$' -count=1 -v -timeout 10m ./cmd/hf-micro

ci: ## what CI runs
	bash .ci/run

# The container image (Dockerfile). `make build` above builds the binary alone; these build and run the image
# with docker, or with podman: make image CONTAINER_ENGINE=podman.
CONTAINER_ENGINE ?= docker
IMAGE            ?= hf-micro:$(VERSION)
# Settings (HF_TOKEN, ...) come from this file, so the token never appears on a command line. Docker reads it
# literally: KEY=value lines, no quotes, no comments after a value.
ENV_FILE         ?= .env
# How the server is reached: published on the host's port 8080 by default.
PUBLISH          ?= -p 8080:8080
# More run flags, e.g. RUN_FLAGS="-d --name hf-micro".
RUN_FLAGS        ?=
# The CA bundle mntcerts mounts: the CA of a TLS-inspecting proxy, or of a private Hub mirror.
CA_BUNDLE        ?= ./ca-bundle.pem
# podman writes OCI images by default, and OCI image configs have no HEALTHCHECK: ask for docker's format.
IMAGE_FORMAT     := $(if $(findstring podman,$(CONTAINER_ENGINE)),--format docker)

.PHONY: image rundocker mntcerts container-test

# BINARY_FROM=build is the Dockerfile's default, said again for podman before 4.4 (Debian 12's 4.3), which
# ignores an ARG's default when it picks the stages to build.
image: ## build the container image: IMAGE, default hf-micro:VERSION (make build builds the binary alone)
	$(CONTAINER_ENGINE) build $(IMAGE_FORMAT) --build-arg BINARY_FROM=build --build-arg VERSION=$(VERSION) -t $(IMAGE) .

rundocker: ## run the image on http://localhost:8080, settings from ENV_FILE (default .env)
	@test -f "$(ENV_FILE)" || { echo "no $(ENV_FILE): cp .env.sample .env, then set HF_TOKEN in it"; exit 1; }
	$(CONTAINER_ENGINE) run --rm --env-file "$(ENV_FILE)" $(PUBLISH) $(RUN_FLAGS) $(IMAGE)

# SSL_CERT_FILE replaces the image's CA bundle: CA_BUNDLE must hold every CA the server needs to trust.
# --mount, unlike -v, fails when the file is missing instead of creating a directory in its place.
mntcerts: ## like rundocker, trusting the CAs in CA_BUNDLE (behind a TLS-inspecting proxy)
	@test -f "$(ENV_FILE)" || { echo "no $(ENV_FILE): cp .env.sample .env, then set HF_TOKEN in it"; exit 1; }
	@test -f "$(CA_BUNDLE)" || { echo "no $(CA_BUNDLE): set CA_BUNDLE to your proxy's CA certificates (PEM)"; exit 1; }
	$(CONTAINER_ENGINE) run --rm --env-file "$(ENV_FILE)" $(PUBLISH) $(RUN_FLAGS) \
		--mount type=bind,source="$(abspath $(CA_BUNDLE))",target=/etc/ssl/certs/extra-ca.pem,readonly \
		-e SSL_CERT_FILE=/etc/ssl/certs/extra-ca.pem $(IMAGE)

container-test: ## build the image with podman and test it as a user would (root; installs podman if missing)
	bash test/container/run.sh

# Checks of the CI, release and deployment configuration; the tools are pinned in tools/go.mod.
.PHONY: check-workflows check-release check-deploy lint-ci

check-workflows: ## actionlint on .github/ and the example workflows in docs/examples (with shellcheck on run: steps)
	$(TOOL) actionlint
	$(TOOL) actionlint docs/examples/*.yml

check-release: ## goreleaser check, and a snapshot build for this machine (dist/, removed after)
	$(TOOL) goreleaser check
	$(TOOL) goreleaser build --snapshot --clean --single-target
	rm -rf dist

check-deploy: ## deploy/azure and the workflows agree with the service (tools/deploycheck)
	cd tools && $(GO) vet ./... && $(GO) tool staticcheck ./... && $(GO) test -count=1 ./...

lint-ci: check-workflows check-release check-deploy ## all three

# The benchmark (bench/, issue #6): loopback only, about 17 minutes, installs wrk and nginx-light when missing.
# BENCH_FLAGS go to bench/driver, e.g. BENCH_FLAGS="-duration 10s -rounds 5".
BENCH_FLAGS ?=
.PHONY: bench
bench: ## benchmark hf-micro against direct, nginx and a plain ReverseProxy; writes docs/benchmarks.md
	bash bench/run.sh $(BENCH_FLAGS)
