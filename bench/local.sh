#!/usr/bin/env bash
# One local invocation of a function image, side by side, on each architecture:
#   emulator:    what AWS documents for testing an image locally
#                (bench/local-emulator.sh): docker build (cached), docker run
#                with the Runtime Interface Emulator as the entrypoint, curl
#                its invoke URL until it answers, then docker rm -f
#   lambda-ship: lambda-ship local --once (its cached build, the sandbox made
#                as Lambda makes it, the invocation, the sandbox removed)
# Same fixture, same engine (the local one, arm64 under QEMU). The image is
# built once before the runs, so both measure a warm build cache.
#
# Usage: bench/local.sh [RUNS]     (as root; starts the test bed)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-10}
context=tests/fixtures/function

tests/testbed/up >/dev/null
cargo build --release --quiet
bin=$PWD/target/release/lambda-ship
export DOCKER_HOST=unix:///var/run/docker.sock DOCKER_BUILDKIT=1
export LAMBDA_SHIP_PROGRESS=plain

now() { date +%s.%N; }
since() { awk -v a="$(now)" -v b="$1" 'BEGIN {printf "%.3f", a - b}'; }
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
timed() { local t; t=$(now); "$@" >/dev/null 2>&1; since "$t"; }

printf '%-12s %12s %12s %16s\n' "medians of $runs" "emulator" "lambda-ship" "lambda-ship ÷ emulator"
for platform in linux/amd64 linux/arm64; do
  # Built and run once before the runs: both measure a warm build cache.
  bench/local-emulator.sh "$platform"
  "$bin" local --once --platforms "$platform" --context "$context" >/dev/null 2>&1
  ours=() theirs=()
  # The contenders alternate, run by run.
  for _ in $(seq "$runs"); do
    ours+=("$(timed "$bin" local --once --platforms "$platform" --context "$context")")
    theirs+=("$(timed bench/local-emulator.sh "$platform")")
  done
  o=$(median "${ours[@]}") e=$(median "${theirs[@]}")
  printf '%-12s %11ss %11ss %16s\n' "$platform" "$e" "$o" "$(ratio "$o" "$e")"
done
