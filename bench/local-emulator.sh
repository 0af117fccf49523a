#!/usr/bin/env bash
# The emulator's recipe for bench/local.sh: one invocation of the fixture on
# PLATFORM under the AWS Runtime Interface Emulator, as AWS documents it.
# Usage: bench/local-emulator.sh PLATFORM
set -euo pipefail
cd "$(dirname "$0")/.."
platform=$1
arch=${platform#linux/}
rie_arch=$([ "$arch" = amd64 ] && echo x86_64 || echo arm64)
state=${LAMBDA_SHIP_TESTBED_DIR:-/var/lib/lambda-ship-testbed}
tag=lambda-ship-bench-local:$arch
# The Docker CLI of the engine's own release, whose `build` speaks BuildKit.
docker=/usr/bin/docker
export DOCKER_BUILDKIT=1
"$docker" build -q --platform "$platform" -t "$tag" tests/fixtures/function >/dev/null
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
container=$("$docker" run -d --network host --platform "$platform" \
  -v "$state/rie/aws-lambda-rie-$rie_arch:/aws-lambda-rie:ro" --entrypoint /aws-lambda-rie "$tag" \
  --runtime-interface-emulator-address "127.0.0.1:$port" \
  --runtime-api-address "127.0.0.1:$((port + 1))" /var/runtime/bootstrap)
until curl -sf -d '{}' "http://127.0.0.1:$port/2015-03-31/functions/function/invocations" >/dev/null; do
  sleep 0.05
done
"$docker" rm -f "$container" >/dev/null
