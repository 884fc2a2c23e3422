#!/usr/bin/env bash
# make bench: hf-micro against a direct call, nginx and a plain httputil.ReverseProxy, hf-micro with budgets
# (in memory and in Redis) against without, and its download cache against nginx, all on 127.0.0.1. Installs
# what it needs (wrk, nginx-light, redis-server) with apt-get when missing, builds hf-micro (make build) and the
# bench programs, runs bench/driver under a time limit and writes docs/benchmarks.md. Arguments are passed to
# the driver (e.g. -duration 10s -rounds 5, or -scenario cache for the download cache alone; `go run
# ./bench/driver -h` lists them). Takes about 17 minutes; the cache scenario needs (rounds + 2) × 3 × -cache-mib
# of disk under /tmp while it runs (15 GiB by default: the files, hf-micro's cache and nginx's), removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v wrk >/dev/null || need+=(wrk)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need+=(nginx-light)
command -v redis-server >/dev/null || need+=(redis-server)
command -v taskset >/dev/null || need+=(util-linux)
command -v getconf >/dev/null || need+=(libc-bin)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "make bench needs: ${need[*]} (Debian packages); install them, or run as root on Debian to let it install them" >&2
    exit 1
  fi
  echo "== installing: ${need[*]}"
  # nginx's package starts the default site (port 80, every interface) where services start on install: keep
  # it from starting, unless the machine already has a policy of its own.
  policy=/usr/sbin/policy-rc.d
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy"
    trap 'rm -f "$policy"' EXIT
  fi
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}"
fi
export PATH="$PATH:/usr/sbin"

echo "== make build"
make build

work=$(mktemp -d /tmp/hf-micro-bench.XXXXXX)
echo "== building bench programs in $work/tools"
go build -o "$work/tools/" ./bench/upstream ./bench/baseline ./bench/burst ./bench/startup ./bench/fetch ./bench/driver
# The baseline again with its functions in a random order: what the code's place in the binary alone does to CPU.
go build -ldflags=-randlayout=1 -o "$work/tools/baseline-relinked" ./bench/baseline
mkdir -p docs

# The driver stops every process it started; the time limit stops the driver should anything hang.
timeout --kill-after=30s 1800 "$work/tools/driver" -repo . -work "$work" -hf-micro bin/hf-micro \
  -tools "$work/tools" -out docs/benchmarks.md "$@"
