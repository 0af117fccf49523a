#!/usr/bin/env bash
# The whole pipeline, side by side on the local test bed, for an x86_64 and an
# arm64 function (arm64 built under QEMU on the same engine for both):
#   stock:       aws ecr get-login-password | docker login; docker build for each
#                platform one after the other; docker push of each; then, for each
#                function, aws lambda update-function-code, wait function-updated-v2,
#                get-function-url-config and invoke (the AWS CLI against moto)
#   lambda-ship: lambda-ship deploy of the same context to the same functions
# Scenarios, each run alternating stock and lambda-ship, medians of N (default 5):
#   (a) cold: empty build cache, new repository
#   (b) a one-line code change on top of a warm cache
#   (c) a re-run of an already-deployed commit
# Also: lambda-ship's peak RSS, its start-up time, and the release binary's size.
#
# Usage: bench/pipeline.sh [RUNS]     (as root; starts the test bed)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
registry=127.0.0.1:5000
ecr=123456789012.dkr.ecr.us-east-1.amazonaws.com

tests/testbed/up >/dev/null
command -v /usr/bin/time >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null
cargo build --release --quiet
bin=$PWD/target/release/lambda-ship
docker_cli=/usr/bin/docker
export DOCKER_HOST=unix:///var/run/docker.sock DOCKER_BUILDKIT=1
export AWS_ENDPOINT_URL=http://127.0.0.1:5050 AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
ctx=$work/context
mkdir -p "$ctx/function"
cp bench/fixture/Dockerfile tests/fixtures/function/bootstrap "$ctx/"
cp -r tests/fixtures/function/busybox "$ctx/"
cp tests/fixtures/function/function/handler.sh "$ctx/function/"

now() { date +%s.%N; }
since() { awk -v a="$(now)" -v b="$1" 'BEGIN {printf "%.3f", a - b}'; }
sha() { head -c 20 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
cold() { "$docker_cli" builder prune -af >/dev/null; }
change() { printf '# change %s\n' "$(sha)" >>"$ctx/function/handler.sh"; }

fn_x86=bench-fn-x86_64 fn_arm=bench-fn-arm64
for arch in x86_64 arm64; do
  fn=bench-fn-$arch
  aws lambda get-function --function-name "$fn" >/dev/null 2>&1 \
    || aws lambda create-function --function-name "$fn" --package-type Image --architectures "$arch" \
      --code ImageUri=$ecr/bench:initial --role arn:aws:iam::123456789012:role/lambda-ship-test-function >/dev/null
done

stock() {
  local repo=$1 sha=$2
  aws ecr describe-repositories --repository-names "$repo" >/dev/null 2>&1 \
    || aws ecr create-repository --repository-name "$repo" >/dev/null
  aws ecr get-login-password | "$docker_cli" login -u AWS --password-stdin "$registry" >/dev/null 2>&1
  "$docker_cli" build -q --platform linux/amd64 -t "$registry/$repo:$sha-x86_64" "$ctx" >/dev/null
  "$docker_cli" build -q --platform linux/arm64 -t "$registry/$repo:$sha-arm64" "$ctx" >/dev/null
  "$docker_cli" push -q "$registry/$repo:$sha-x86_64" >/dev/null
  "$docker_cli" push -q "$registry/$repo:$sha-arm64" >/dev/null
  for arch in x86_64 arm64; do
    local fn=bench-fn-$arch digest
    digest=$("$docker_cli" inspect --format '{{index .RepoDigests 0}}' "$registry/$repo:$sha-$arch")
    aws lambda update-function-code --function-name "$fn" --image-uri "$ecr/$repo@${digest#*@}" >/dev/null
    aws lambda wait function-updated-v2 --function-name "$fn"
    aws lambda get-function-url-config --function-name "$fn" >/dev/null 2>&1 || true
    aws lambda invoke --function-name "$fn" --payload '{}' "$work/out.json" >/dev/null
  done
}

ours() {
  local repo=$1 sha=$2
  /usr/bin/time -f '%M' -o "$work/rss" "$bin" deploy --repository "$repo" --sha "$sha" --context "$ctx" \
    --registry "$registry" --function "$fn_x86" --function "$fn_arm" --progress plain \
    --output json >"$work/report.json" 2>"$work/stderr" || { cat "$work/stderr" >&2; exit 1; }
  rss_kb+=("$(cat "$work/rss")")
}

# lambda-ship's own time in a run: the wall time less the critical path of the
# work it waits on (each platform's build and local invocation in its sandbox,
# concurrently; then the pushes, concurrently; then the function updates and
# smoke tests).
# What is left still holds the AWS calls before the build (reading the
# functions, the repository, the token), so it is an upper bound.
overhead() {
  python3 - "$1" "$work/report.json" <<'PY'
import json, sys
wall, report = float(sys.argv[1]), json.load(open(sys.argv[2]))
images = report["build"]["images"]
# Every push waits until every platform is built and has passed locally.
built = max(i["build_seconds"] + ((i.get("local_smoke") or {}).get("total_ms") or 0) / 1000 for i in images)
images = built + max(i["push_seconds"] for i in images)
deploys = max(f["update_seconds"] for f in report["functions"])
print(f"{wall - images - deploys:.3f}")
PY
}

median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }

declare -a rss_kb overheads
declare -A med_stock med_ours
for scenario in a b c; do
  t_stock=() t_ours=()
  # Both recipes get the same warm cache and already-deployed commit in b and c.
  if [ "$scenario" != a ]; then
    base=$(sha)
    stock "bench-stock-$scenario" "$base" >/dev/null
    ours "bench-ours-$scenario" "$base"
  fi
  for ((i = 1; i <= runs; i++)); do
    for who in stock ours; do
      case $scenario in
        a) cold; repo="bench-$who-a-$(sha | head -c 8)"; s=$(sha) ;;
        b) change; repo="bench-$who-b"; s=$(sha) ;;
        c) repo="bench-$who-c"; s=$base ;;
      esac
      start=$(now)
      "$who" "$repo" "$s"
      took=$(since "$start")
      if [ "$who" = stock ]; then t_stock+=("$took"); else t_ours+=("$took"); fi
      if [ "$who" = ours ] && [ "$scenario" = a ]; then overheads+=("$(overhead "$took")"); fi
      printf 'scenario %s run %d %-6s %7.2fs\n' "$scenario" "$i" "$who" "$took"
    done
  done
  med_stock[$scenario]=$(median "${t_stock[@]}")
  med_ours[$scenario]=$(median "${t_ours[@]}")
done

start=$(now)
for _ in $(seq 20); do "$bin" --version >/dev/null; done
startup_ms=$(awk -v t="$(since "$start")" 'BEGIN {printf "%.1f", t * 1000 / 20}')
peak_mb=$(printf '%s\n' "${rss_kb[@]}" | sort -n | tail -1 | awk '{printf "%.1f", $1 / 1024}')
size_mb=$(stat -c %s "$bin" | awk '{printf "%.1f", $1 / 1000000}')

echo
printf '%-44s %9s %12s %7s\n' "scenario (medians of $runs)" "stock" "lambda-ship" "ratio"
for scenario in a b c; do
  case $scenario in
    a) name="(a) cold cache, new repository" ;;
    b) name="(b) one-line change, warm cache" ;;
    c) name="(c) re-run of a deployed commit" ;;
  esac
  printf '%-44s %8.2fs %11.2fs %7s\n' "$name" "${med_stock[$scenario]}" "${med_ours[$scenario]}" \
    "$(ratio "${med_ours[$scenario]}" "${med_stock[$scenario]}")"
done
printf '%-44s %8ss\n' "lambda-ship overhead in (a), median" "$(median "${overheads[@]}")"
printf '%-44s %8s\n' "lambda-ship peak RSS" "$peak_mb MB"
printf '%-44s %8s\n' "lambda-ship start-up (--version)" "$startup_ms ms"
printf '%-44s %8s\n' "release binary" "$size_mb MB"
