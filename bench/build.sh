#!/usr/bin/env bash
# Building and pushing both architectures from a cold build cache, side by side:
#   stock:       docker login, then docker build for linux/amd64 and linux/arm64
#                one after the other, then docker push of each (the Docker CLI)
#   lambda-ship: lambda-ship build (both platforms concurrently, each pushed as
#                soon as it is built, then read back and verified)
# Same fixture, same engine (the local one, arm64 under QEMU), same registry.
# Runs alternate; each starts with an empty build cache and a new repository.
# Prints the medians of N runs (default 5) and their ratio.
#
# Usage: bench/build.sh [RUNS] [CONTEXT]     (as root; starts the test bed)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
context=${2:-tests/fixtures/function}
registry=127.0.0.1:5000

tests/testbed/up >/dev/null
cargo build --release --quiet
bin=$PWD/target/release/lambda-ship
# The Docker CLI of the engine's own release, whose `build` speaks BuildKit.
docker_cli=/usr/bin/docker
export DOCKER_HOST=unix:///var/run/docker.sock DOCKER_BUILDKIT=1
export AWS_ENDPOINT_URL=http://127.0.0.1:5050 AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing

now() { date +%s.%N; }
cold() { "$docker_cli" builder prune -af >/dev/null; }
sha() { head -c 20 /dev/urandom | od -An -tx1 | tr -d ' \n'; }

stock() {
  local repo=$1 sha=$2
  aws ecr create-repository --repository-name "$repo" >/dev/null
  aws ecr get-login-password | "$docker_cli" login -u AWS --password-stdin "$registry" >/dev/null 2>&1
  docker_start=$(now)
  "$docker_cli" build -q --platform linux/amd64 -t "$registry/$repo:$sha-x86_64" "$context" >/dev/null
  "$docker_cli" build -q --platform linux/arm64 -t "$registry/$repo:$sha-arm64" "$context" >/dev/null
  "$docker_cli" push -q "$registry/$repo:$sha-x86_64" >/dev/null
  "$docker_cli" push -q "$registry/$repo:$sha-arm64" >/dev/null
  t_docker+=("$(awk -v a="$(now)" -v b="$docker_start" 'BEGIN {printf "%.3f", a - b}')")
}

ours() {
  local repo=$1 sha=$2
  "$bin" build --repository "$repo" --sha "$sha" --context "$context" \
    --registry "$registry" --progress plain >/dev/null 2>&1
}

declare -a t_stock t_ours t_docker
for ((i = 1; i <= runs; i++)); do
  for who in stock ours; do
    cold
    repo="bench-$who-$(sha | head -c 8)"
    start=$(now)
    "$who" "$repo" "$(sha)"
    took=$(awk -v a="$(now)" -v b="$start" 'BEGIN {printf "%.3f", a - b}')
    if [ "$who" = stock ]; then t_stock+=("$took"); else t_ours+=("$took"); fi
    printf 'run %d %-12s %6.2fs\n' "$i" "$who" "$took"
  done
done

median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
m_stock=$(median "${t_stock[@]}")
m_ours=$(median "${t_ours[@]}")
m_docker=$(median "${t_docker[@]}")
echo
printf '%-40s %8s\n' "cold build + push, both architectures" "median"
printf '%-40s %7.2fs\n' "docker build ×2 + docker push ×2" "$m_stock"
printf '%-40s %7.2fs\n' "  of which the docker commands alone" "$m_docker"
printf '%-40s %7.2fs\n' "lambda-ship build" "$m_ours"
printf '%-40s %7.2f\n' "ratio (lambda-ship / stock)" "$(awk -v a="$m_ours" -v b="$m_stock" 'BEGIN {print a / b}')"
printf '%-40s %7.2f\n' "ratio (lambda-ship / docker commands)" "$(awk -v a="$m_ours" -v b="$m_docker" 'BEGIN {print a / b}')"
