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

for platform in linux/amd64 linux/arm64; do
  # Built and run once before the runs: both measure a warm build cache.
  bench/local-emulator.sh "$platform"
  "$bin" local --once --platforms "$platform" --context "$context" >/dev/null 2>&1
  echo "== $platform"
  farm-bench -n "$runs" --timeout 900 --vs "bench/local-emulator.sh $platform" -- \
    "$bin" local --once --platforms "$platform" --context "$context"
done
