#!/usr/bin/env bash
# Container test: builds the real Dockerfile's final stage with podman and checks the image as a user would.
#
# No image registry and no Docker engine are reachable here, so two things are substituted, nothing else:
#  - the base image gcr.io/distroless/static-debian13:nonroot is assembled from Debian's files, with the same
#    contents and config, under the same name, in a private podman store (a real one is never shadowed);
#  - the golang build stage: the binary is built on this machine with the Dockerfile's own command and comes
#    in through its `prebuilt` stage (--build-arg BINARY_FROM=prebuilt). podman skips the unused golang stage,
#    so the final stage built here is exactly the one users build.
# The fake Hub (tlshub) serves HTTPS on 127.0.0.1 with a CA made afresh; the containers use the host's
# network, so all traffic stays on loopback.
#
# Usage, as root (installs podman, runc and what else it needs with apt-get when missing):
#   bash test/container/run.sh          (or: make container-test)
set -euo pipefail

# A hard bound on the whole run, on top of the bounded steps below. timeout ends this script's whole process
# group, and the EXIT trap still cleans up.
if [ -z "${HF_MICRO_CT_TIMEBOX:-}" ]; then
  export HF_MICRO_CT_TIMEBOX=1
  exec timeout --kill-after=30s 15m "$BASH" "$0" "$@"
fi

started=$(date +%s)
repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"
umask 022 # the modes in the assembled base image must not depend on the caller's umask

if [ "$(id -u)" != 0 ]; then
  echo "FAIL: the container test runs rootful podman and installs packages: run it as root" >&2
  exit 1
fi
command -v go >/dev/null || { echo "FAIL: go is needed to build the binary" >&2; exit 1; }

# What the test needs from Debian. ca-certificates and tzdata are the base image's CA bundle and zoneinfo.
need=()
for tool in podman runc curl make; do
  command -v "$tool" >/dev/null || need+=("$tool")
done
[ -s /etc/ssl/certs/ca-certificates.crt ] || need+=(ca-certificates)
[ -d /usr/share/zoneinfo ] || need+=(tzdata)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}"
  timeout 300 apt-get update -q
  DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -q --no-install-recommends "${need[@]}"
fi

work=$(mktemp -d "${TMPDIR:-/var/tmp}/hf-micro-container-test.XXXXXX")
hub_pid=
store_ready=
cleanup() {
  local rc=$?
  set +e
  [ -n "$hub_pid" ] && kill "$hub_pid" 2>/dev/null
  if [ "$rc" != 0 ] && [ -n "$store_ready" ]; then
    # Stopped half-way: what the containers and the fake Hub said.
    for name in $(timeout 30 podman ps -a --format '{{.Names}}'); do
      echo "--- podman logs $name"
      timeout 30 podman logs --tail 20 "$name" 2>&1
    done
    [ -f "$work/tlshub.log" ] && { echo "--- tlshub"; tail -n 20 "$work/tlshub.log"; }
  fi
  if [ -n "$store_ready" ]; then
    # The store is this run's own (checked below), so everything in it is ours.
    timeout 60 podman rm --all --force --time 0 >/dev/null 2>&1
    timeout 60 podman rmi --all --force >/dev/null 2>&1
  fi
  grep -F " $work/" /proc/self/mountinfo | awk '{print $5}' | sort -r | xargs -r umount -l 2>/dev/null
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
trap 'echo "FAIL: stopped at line $LINENO: $BASH_COMMAND" >&2' ERR
trap 'exit 130' INT TERM

# podman's own settings for this run, in the work dir: a fresh store however podman was set up before.
ulimit_nofile=$(ulimit -Hn)
cat >"$work/containers.conf" <<EOF
[containers]
# Known to be needed on these machines: podman's default limits do not fit them.
default_ulimits = ["nofile=$ulimit_nofile:$ulimit_nofile", "nproc=4096:4096"]
# The host's network unless told otherwise: nothing goes to podman's bridge (a private address range).
netns = "host"

[engine]
runtime = "runc"
tmp_dir = "$work/libpod"
EOF
cat >"$work/storage.conf" <<EOF
[storage]
driver = "overlay"
graphroot = "$work/storage"
runroot = "$work/run"
EOF
export CONTAINERS_CONF="$work/containers.conf" CONTAINERS_STORAGE_CONF="$work/storage.conf"
graphroot=$(timeout 60 podman info --format '{{.Store.GraphRoot}}')
if [ "$graphroot" != "$work/storage" ]; then
  echo "FAIL: podman uses the store $graphroot, not this run's own $work/storage" >&2
  exit 1
fi
store_ready=1

# podman cannot schedule HEALTHCHECK timers without systemd and says so at each container start and stop;
# the check itself works (podman healthcheck run, below), so that one message is dropped.
pm() { timeout 180 podman "$@" 2> >(grep -v 'unable to get systemd connection' >&2); }

passed=0
failed=0
pass() { echo "PASS: $*"; passed=$((passed + 1)); }
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }
check() { # description, command...: PASS if the command succeeds
  local what=$1
  shift
  if "$@"; then pass "$what"; else fail "$what"; fi
}

# A port nothing listens on, other than the ones given. Below Linux's ephemeral range, so no client takes it.
free_port() {
  local port
  for _ in $(seq 100); do
    port=$((20000 + RANDOM % 12000))
    case " $* " in *" $port "*) continue ;; esac
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return
    fi
  done
  return 1
}

wait_healthy() { # port
  for _ in $(seq 100); do
    curl -fsS -m 1 -o /dev/null "http://127.0.0.1:$1/healthz" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

# GET a URL: prints "status content-type", the body goes to $work/body.
get() { curl -sS -m 20 -o "$work/body" -w '%{http_code} %{content_type}' "$1" || true; }

echo "== build the binary and the fake Hub"
version=container-test
# The Dockerfile's own build command (its build stage needs the golang image, which cannot be pulled here).
# If the Dockerfile's flags change, the check below says so: change them here too.
build_flags=(-trimpath -ldflags "-s -w -X main.version=$version")
mkdir -p "$work/context" "$work/hub"
CGO_ENABLED=0 GOOS=linux GOARCH=$(go env GOARCH) timeout 300 go build "${build_flags[@]}" \
  -o "$work/context/hf-micro" ./cmd/hf-micro
timeout 300 go build -o "$work/tlshub" ./test/container/tlshub
# shellcheck disable=SC2016 # the Dockerfile's text, $ and all
check "the binary is built with the Dockerfile's go build command" \
  grep -qF 'CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH' Dockerfile
# shellcheck disable=SC2016
check "  ... and its flags" \
  grep -qF 'go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/hf-micro ./cmd/hf-micro' Dockerfile

"$work/tlshub" -dir "$work/hub" -max 10m 2>"$work/tlshub.log" &
hub_pid=$!
for _ in $(seq 100); do
  [ -s "$work/hub/url" ] && break
  sleep 0.1
done
hub_url=$(cat "$work/hub/url")
# The settings file of `make rundocker`: the token goes to the container through it, never on a command line.
token=$(cat "$work/hub/token")
printf 'HF_TOKEN=%s\nHF_ENDPOINT=%s\n' "$token" "$hub_url" >"$work/hub.env"
chmod 600 "$work/hub.env"
echo "fake Hub at $hub_url"

# The base image the Dockerfile's final stage names. The stand-in imitates this one image only.
base_image=$(awk '$1 == "FROM" { image = $2 } END { print image }' Dockerfile)
if [ "$base_image" != gcr.io/distroless/static-debian13:nonroot ]; then
  echo "FAIL: the Dockerfile's final stage is FROM $base_image; update the stand-in base in $0" >&2
  exit 1
fi

# assemble_base [extra CA file]: builds the stand-in for $base_image, its CA bundle plus the extra CA if given.
assemble_base() {
  local root=$work/base/rootfs
  rm -rf "$work/base"
  mkdir -p "$work/base/context" "$root/etc/ssl/certs" "$root/usr/share" "$root/tmp" "$root/root" "$root/home/nonroot"
  cat >"$root/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin
nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin
EOF
  cat >"$root/etc/group" <<'EOF'
root:x:0:
nobody:x:65534:
tty:x:5:
staff:x:50:
nonroot:x:65532:
EOF
  cat >"$root/etc/os-release" <<'EOF'
PRETTY_NAME="Distroless"
NAME="Debian GNU/Linux"
ID="debian"
VERSION_ID="13"
VERSION="Debian GNU/Linux 13 (trixie)"
HOME_URL="https://github.com/GoogleContainerTools/distroless"
SUPPORT_URL="https://github.com/GoogleContainerTools/distroless/blob/master/README.md"
BUG_REPORT_URL="https://github.com/GoogleContainerTools/distroless/issues/new"
EOF
  cat >"$root/etc/nsswitch.conf" <<'EOF'
passwd:         compat
group:          compat
shadow:         compat
gshadow:        files

hosts:          files dns
networks:       files

protocols:      db files
services:       db files
ethers:         db files
rpc:            db files

netgroup:       nis
EOF
  cat /etc/ssl/certs/ca-certificates.crt "$@" >"$root/etc/ssl/certs/ca-certificates.crt"
  cp -a /usr/share/zoneinfo "$root/usr/share/"
  chmod 1777 "$root/tmp"
  chmod 700 "$root/root" "$root/home/nonroot"
  chown 65532:65532 "$root/home/nonroot"
  tar --numeric-owner -C "$root" -cf "$work/base/context/rootfs.tar" .
  pm build --pull=never -q -f test/container/distroless-static.Containerfile -t "$base_image" \
    "$work/base/context" >/dev/null
}

# build_image TAG: the real Dockerfile, with the binary built above. --format docker keeps the HEALTHCHECK.
# (podman 4.3 warns of a missing TARGETOS while it reads the skipped golang stage; it does set it.)
build_image() {
  pm build --pull=never --format docker --build-arg BINARY_FROM=prebuilt --build-arg VERSION="$version" \
    -f Dockerfile -t "$1" "$work/context" 2>&1 | tee "$work/build.log" || return 1
  ! grep -qi golang "$work/build.log" # podman skipped the golang stage (it could not have pulled it)
}

echo "== build the image twice: on the base as it is, and on a base that also trusts the fake Hub's CA"
image=localhost/hf-micro-test:plain
image_ca=localhost/hf-micro-test:with-hub-ca
assemble_base
check "the Dockerfile's final stage builds, golang stage skipped" build_image "$image"
assemble_base "$work/hub/ca.pem"
build_image "$image_ca" >/dev/null

echo "== the image"
config=$(pm image inspect "$image" --format '{{.User}}|{{json .Config.Entrypoint}}|{{json .HealthCheck.Test}}|{{json .Config.ExposedPorts}}|{{index .Labels "org.opencontainers.image.title"}}')
echo "$config"
check "the image runs as 65532:65532" test "${config%%|*}" = 65532:65532
check "exec-form ENTRYPOINT, HEALTHCHECK /hf-micro healthcheck, EXPOSE 8080, title label" \
  test "$config" = '65532:65532|["/hf-micro"]|["CMD","/hf-micro","healthcheck"]|{"8080/tcp":{}}|hf-micro'
check "hf-micro version prints the build's version" \
  test "$(pm run --rm "$image" version)" = "hf-micro $version"
no_shell() {
  local out
  out=$(pm run --rm --entrypoint /bin/sh "$image" -c true 2>&1) && return 1
  grep -q 'stat /bin/sh: no such file' <<<"$out"
}
check "there is no shell: --entrypoint /bin/sh fails, no such file" no_shell
pm create --name files "$image" >/dev/null
pm export files | tar -tv --numeric-owner >"$work/files.txt"
pm rm files >/dev/null
executables=$(awk '$1 ~ /^-..x/ { print $6 }' "$work/files.txt")
check "the only executable file is /hf-micro ($(grep -c . "$work/files.txt") entries in all)" test "$executables" = hf-micro
check "/home/nonroot is 65532's, mode 700" \
  grep -qE '^drwx------ 65532/65532 .* home/nonroot/$' "$work/files.txt"
check "  ... /tmp is 1777" grep -qE '^drwxrwxrwt 0/0 .* tmp/$' "$work/files.txt"

echo "== the build context .dockerignore lets through, from a copy of the repository with files planted in it"
context=$work/context-check
mkdir -p "$context"
cp -a go.mod go.sum cmd internal .dockerignore "$context/"
mkdir -p "$context/.git" "$context/bin" "$context/dist" "$context/node_modules/x" "$context/test"
touch "$context/.env" "$context/internal/.env" "$context/.git/HEAD" "$context/bin/hf-micro" "$context/dist/x" \
  "$context/node_modules/x/y" "$context/cover.out" "$context/cmd/hf-micro/hf-micro.test" "$context/test/x" \
  "$context/README.md"
printf 'FROM scratch\nCOPY . /context/\n' >"$work/context-check.Containerfile"
pm build --pull=never -q -f "$work/context-check.Containerfile" -t localhost/hf-micro-test:context "$context" >/dev/null
pm create --name context localhost/hf-micro-test:context /none >/dev/null
pm export context | tar -t | sed -n 's|^context/\(.*[^/]\)$|\1|p' | sort >"$work/context.txt"
pm rm context >/dev/null
echo "$(grep -c . "$work/context.txt") files, e.g. $(grep -E '^(go\.mod|cmd/hf-micro/main\.go|internal/server/index\.html)$' "$work/context.txt" | xargs)"
check "the context has go.mod, go.sum, cmd/hf-micro/main.go and internal/server/index.html" \
  test "$(grep -cxE 'go\.mod|go\.sum|cmd/hf-micro/main\.go|internal/server/index\.html' "$work/context.txt")" = 4
check "  ... and nothing but cmd/ and internal/ besides" \
  test "$(grep -cvE '^(go\.mod|go\.sum|cmd/.*|internal/.*)$' "$work/context.txt")" = 0
check "  ... and no .env, tests or test output" test "$(grep -cE '\.env$|_test\.go$|\.test$|\.out$' "$work/context.txt")" = 0

echo "== the service, on the base that trusts the fake Hub's CA"
port_a=$(free_port)
port_b=$(free_port "$port_a")
port_c=$(free_port "$port_a" "$port_b")
port_none=$(free_port "$port_a" "$port_b" "$port_c")
pm run -d --name trusting --network=host --env-file "$work/hub.env" -e PORT="$port_a" "$image_ca" >/dev/null
check "GET /healthz answers 200" wait_healthy "$port_a"
uids=$(pm top trusting huser user | awk 'NR > 1 { print $1, $2 }')
pid=$(pm inspect trusting --format '{{.State.Pid}}')
check "the process runs as 65532, nonroot in /etc/passwd (podman top: $uids)" test "$uids" = "65532 nonroot"
ids_65532() { grep -qE '^Uid:\s+65532\s+65532\s+65532\s+65532$' "$1" && grep -qE '^Gid:\s+65532\s+65532\s+65532\s+65532$' "$1"; }
check "  ... /proc/$pid/status: Uid and Gid 65532" ids_65532 "/proc/$pid/status"
check "podman exec ... /hf-micro healthcheck exits 0" pm exec trusting /hf-micro healthcheck
check "the image's HEALTHCHECK passes (podman healthcheck run)" pm healthcheck run trusting
reply=$(get "http://127.0.0.1:$port_a/api/account")
check "GET /api/account over HTTPS to the Hub: 200 with the fake user ($reply)" \
  grep -q '"name":"container-test"' "$work/body"
check "  ... status 200" test "${reply%% *}" = 200

echo "== the healthcheck command when no server runs"
rc=0
pm run --rm --network=host -e PORT="$port_none" "$image" healthcheck 2>"$work/healthcheck.err" || rc=$?
check "hf-micro healthcheck exits 1 with nothing listening (exit $rc)" test "$rc" = 1

echo "== the service, on the base as it is: the Hub's CA is unknown"
pm run -d --name untrusting --network=host --env-file "$work/hub.env" -e PORT="$port_b" "$image" >/dev/null
wait_healthy "$port_b" || true
reply=$(get "http://127.0.0.1:$port_b/api/account")
echo "$reply $(cat "$work/body")"
check "GET /api/account: 502 JSON" test "$reply" = "502 application/json"
check "  ... whose error names the certificate" grep -qE '"error":"[^"]*certificate' "$work/body"

echo "== make mntcerts: the same image with the CA bundle mounted read-only and SSL_CERT_FILE"
# The Makefile's own target, detached and on the host's network instead of a published port.
timeout 120 make --no-print-directory mntcerts CONTAINER_ENGINE=podman IMAGE="$image" ENV_FILE="$work/hub.env" \
  CA_BUNDLE="$work/hub/ca.pem" PUBLISH= RUN_FLAGS="-d --name mounted --network=host -e PORT=$port_c" \
  2> >(grep -v 'unable to get systemd connection' >&2)
wait_healthy "$port_c" || true
reply=$(get "http://127.0.0.1:$port_c/api/account")
check "GET /api/account with the mounted CA: 200 with the fake user ($reply)" \
  grep -q '"name":"container-test"' "$work/body"
mounts=$(pm inspect mounted --format '{{range .Mounts}}{{.Destination}} rw={{.RW}}{{end}}')
check "  ... the bundle is mounted read-only ($mounts)" test "$mounts" = "/etc/ssl/certs/extra-ca.pem rw=false"

echo "== the token stays out of the command line and the logs"
args=$(pm inspect trusting --format '{{.Path}} {{json .Args}} {{json .Config.Cmd}} {{json .Config.Entrypoint}}')
echo "command line: $args"
check "the token is in the container's environment (so the checks below can see it)" \
  grep -qF "$token" <(pm inspect trusting --format '{{json .Config.Env}}')
check "the token is not in podman inspect's Path, Args, Cmd or Entrypoint" \
  test "$(grep -cF "$token" <<<"$args")" = 0
check "  ... nor in podman ps --no-trunc" test "$(pm ps -a --no-trunc | grep -cF "$token")" = 0
# Each log as it stands once the line of the /api/account call, the one that used the token, is in it.
for name in trusting untrusting mounted; do
  for _ in $(seq 50); do
    pm logs "$name" >"$work/$name.log" 2>&1
    grep -q /api/account "$work/$name.log" && break
    sleep 0.1
  done
done
check "  ... nor in the logs ($(cat "$work"/{trusting,untrusting,mounted}.log | grep -c .) lines)" \
  test "$(cat "$work"/{trusting,untrusting,mounted}.log | grep -cF "$token")" = 0

echo "== SIGTERM"
t0=$(date +%s%N)
pm stop -t 25 trusting >/dev/null
elapsed_ms=$((($(date +%s%N) - t0) / 1000000))
exit_code=$(pm inspect trusting --format '{{.State.ExitCode}}')
check "podman stop -t 25: exit code 0 ($exit_code)" test "$exit_code" = 0
check "  ... in ${elapsed_ms} ms, well within the 25 s grace period" test "$elapsed_ms" -lt 10000
# conmon may still be writing the last lines to the log when podman stop returns.
logged_stopped() {
  for _ in $(seq 50); do
    pm logs trusting >"$work/trusting.log" 2>&1
    grep -q '"msg":"stopped"' "$work/trusting.log" && return 0
    sleep 0.1
  done
  return 1
}
check "  ... and the log says stopped" logged_stopped
pm stop -t 25 untrusting mounted >/dev/null

echo "== sizes"
echo "image $image: $(pm image inspect "$image" --format '{{.Size}}') bytes"
echo "binary hf-micro: $(stat -c %s "$work/context/hf-micro") bytes"

if [ "$failed" -gt 0 ]; then
  for log in "$work"/{trusting,untrusting,mounted}.log "$work/tlshub.log" "$work/healthcheck.err"; do
    [ -f "$log" ] && { echo "--- $log"; tail -n 20 "$log"; }
  done
fi
echo "took $(($(date +%s) - started)) s"
echo "container-test: $passed passed, $failed failed"
if [ "$failed" != 0 ]; then exit 1; fi
