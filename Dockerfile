# hf-micro's container image: one static Go binary on distroless, running as the nonroot user (uid 65532).
#
#   docker build -t hf-micro .                   (or: make image)
#   podman build --format docker -t hf-micro .   (podman's default OCI format drops HEALTHCHECK)
#
# By default the binary is built in the `build` stage. With --build-arg BINARY_FROM=prebuilt it is taken from
# the build context instead (the file named by PREBUILT, default ./hf-micro), for a binary built elsewhere:
# by goreleaser, or by test/container/run.sh. Either way the final stage is the same.

# Which stage supplies the binary: build (compile here) or prebuilt (copy from the context).
ARG BINARY_FROM=build

# Compile on the builder's own platform and cross-compile to the target's: fast multi-arch builds, no emulation.
FROM --platform=$BUILDPLATFORM golang:1.26 AS build
ARG TARGETOS TARGETARCH
# The version printed by `hf-micro version` and sent in the User-Agent; not a secret.
ARG VERSION=dev
WORKDIR /src
# Modules first, so a code change does not download them again. The caches outlive the build.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY cmd/ cmd/
COPY internal/ internal/
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/hf-micro ./cmd/hf-micro

# A binary built outside: static (CGO_ENABLED=0), for the target's platform, named by PREBUILT in the context.
FROM scratch AS prebuilt
ARG PREBUILT=hf-micro
COPY ${PREBUILT} /out/hf-micro

# Builders skip the stage that BINARY_FROM does not name.
FROM ${BINARY_FROM} AS binary

# Distroless static: CA certificates, tzdata, /etc/passwd with nonroot, /tmp; no shell, no package manager.
FROM gcr.io/distroless/static-debian13:nonroot
ARG VERSION=dev
LABEL org.opencontainers.image.title="hf-micro" \
      org.opencontainers.image.description="A small, fast HTTP gateway to the Hugging Face Hub" \
      org.opencontainers.image.source="https://github.com/hf-micro/hf-micro" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}"
COPY --from=binary /out/hf-micro /hf-micro
# Numeric, so Kubernetes' runAsNonRoot can check it without reading /etc/passwd.
USER 65532:65532
# A nonroot user cannot bind below 1024: the server listens on 8080 (PORT).
EXPOSE 8080
# No shell in the image: the binary checks itself (GET /healthz on its own PORT/ADDR, exit 0 or 1).
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 CMD ["/hf-micro", "healthcheck"]
# Exec form: hf-micro is PID 1 and gets SIGTERM itself, then shuts down gracefully and exits 0.
ENTRYPOINT ["/hf-micro"]
