#!/usr/bin/env bash
# The whole pipeline, side by side on the local test bed, for an x86_64 and an
# arm64 function (arm64 built under QEMU on the same engine for both):
#   stock:       aws ecr get-login-password | docker login; docker build for each
#                platform one after the other; docker push of each; then, for each
#                function, aws lambda update-function-code, wait function-updated-v2,
#                get-function-url-config and invoke (the AWS CLI against moto)
#   cached:      the same recipe with --build-arg BUILDKIT_INLINE_CACHE=1 and
#                docker build --cache-from <the previous commit's image>: the best a
#                hand-written script does on a fresh CI runner
#   lambda-ship: lambda-ship deploy of the same context to functions of its own
# Scenarios, each run alternating the contenders, medians of N (default 5):
#   (a) cold: empty build cache, new repository; and the floor of (a): the slower
#       architecture's build alone + the push of its bytes + one update-and-wait
#   (b) a one-line code change on top of a warm cache
#   (c) a re-run of an already-deployed commit
#   (d) a fresh runner: the previous commit in the repository, an empty engine
#       (no build cache, no image), a one-line change: stock, cached, lambda-ship
#   (e) (d) for a multi-stage Dockerfile (bench/fixture-multistage), with the
#       share of the builder stage's steps that lambda-ship took from the cache
#   (f) a commit that changes only a file outside the build context (a README),
#       on a warm cache, after a deployed commit
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
ctx_ms=$work/context-multistage
cp -r "$ctx" "$ctx_ms"
cp bench/fixture-multistage/Dockerfile "$ctx_ms/"

now() { date +%s.%N; }
since() { awk -v a="$(now)" -v b="$1" 'BEGIN {printf "%.3f", a - b}'; }
sha() { head -c 20 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
cold() { "$docker_cli" builder prune -af >/dev/null; }
# A fresh CI runner's engine: no build cache and no image at all.
empty_engine() {
  cold
  "$docker_cli" images -q | sort -u | xargs -r "$docker_cli" rmi -f >/dev/null 2>&1 || true
}
change() { printf '# change %s\n' "$(sha)" >>"${1:-$ctx}/function/handler.sh"; }

# Each contender deploys its own pair of functions: what a function runs now
# is where lambda-ship looks for cache first.
for who in stock ours; do
  for arch in x86_64 arm64; do
    fn=bench-$who-fn-$arch
    aws lambda get-function --function-name "$fn" >/dev/null 2>&1 \
      || aws lambda create-function --function-name "$fn" --package-type Image --architectures "$arch" \
        --code ImageUri=$ecr/bench:initial --role arn:aws:iam::123456789012:role/lambda-ship-test-function >/dev/null
  done
done

# stock REPO SHA [PREVIOUS_SHA|inline [CONTEXT]]: the recipe; with a previous
# commit, its images are the --cache-from of the builds and every image
# carries the inline cache (the "cached" contender); `inline` only writes it.
stock() {
  local repo=$1 sha=$2 previous=${3:-} context=${4:-$ctx} arch platform
  local cache=()
  aws ecr describe-repositories --repository-names "$repo" >/dev/null 2>&1 \
    || aws ecr create-repository --repository-name "$repo" >/dev/null
  aws ecr get-login-password | "$docker_cli" login -u AWS --password-stdin "$registry" >/dev/null 2>&1
  for arch in x86_64 arm64; do
    platform=linux/amd64; [ "$arch" = arm64 ] && platform=linux/arm64
    cache=()
    if [ "$previous" = inline ]; then
      cache=(--build-arg BUILDKIT_INLINE_CACHE=1)
    elif [ -n "$previous" ]; then
      cache=(--build-arg BUILDKIT_INLINE_CACHE=1 --cache-from "$registry/$repo:$previous-$arch")
    fi
    "$docker_cli" build -q --platform "$platform" "${cache[@]}" -t "$registry/$repo:$sha-$arch" "$context" >/dev/null
  done
  "$docker_cli" push -q "$registry/$repo:$sha-x86_64" >/dev/null
  "$docker_cli" push -q "$registry/$repo:$sha-arm64" >/dev/null
  for arch in x86_64 arm64; do
    local fn=bench-stock-fn-$arch digest
    digest=$("$docker_cli" inspect --format '{{index .RepoDigests 0}}' "$registry/$repo:$sha-$arch")
    aws lambda update-function-code --function-name "$fn" --image-uri "$ecr/$repo@${digest#*@}" >/dev/null
    aws lambda wait function-updated-v2 --function-name "$fn"
    aws lambda get-function-url-config --function-name "$fn" >/dev/null 2>&1 || true
    aws lambda invoke --function-name "$fn" --payload '{}' "$work/out.json" >/dev/null
  done
}

# ours REPO SHA [CONTEXT [FLAG...]]
ours() {
  local repo=$1 sha=$2 context=${3:-$ctx}
  shift 3 || shift $#
  /usr/bin/time -f '%M' -o "$work/rss" "$bin" deploy --repository "$repo" --sha "$sha" --context "$context" "$@" \
    --registry "$registry" --function bench-ours-fn-x86_64 --function bench-ours-fn-arm64 --progress plain \
    --output json >"$work/report.json" 2>"$work/stderr" || { cat "$work/stderr" >&2; exit 1; }
  rss_kb+=("$(cat "$work/rss")")
}

# The floor of a cold deploy: the slower architecture's build alone, the push
# of its bytes, and one function's update and wait; the sum of the three.
floor() {
  local repo=$1 sha=$2 t=0 start
  aws ecr create-repository --repository-name "$repo" >/dev/null
  cold
  start=$(now)
  "$docker_cli" build -q --platform linux/arm64 -t "$registry/$repo:$sha-arm64" "$ctx" >/dev/null
  t=$(since "$start")
  start=$(now)
  "$docker_cli" push -q "$registry/$repo:$sha-arm64" >/dev/null
  t=$(awk -v a="$t" -v b="$(since "$start")" 'BEGIN {print a + b}')
  local digest
  digest=$("$docker_cli" inspect --format '{{index .RepoDigests 0}}' "$registry/$repo:$sha-arm64")
  start=$(now)
  aws lambda update-function-code --function-name bench-stock-fn-arm64 --image-uri "$ecr/$repo@${digest#*@}" >/dev/null
  aws lambda wait function-updated-v2 --function-name bench-stock-fn-arm64
  awk -v a="$t" -v b="$(since "$start")" 'BEGIN {printf "%.3f", a + b}'
}

# The share of the builder stage's steps that the last lambda-ship run took
# from the cache, over both architectures.
builder_share() {
  awk '/\[builder [0-9]+\/[0-9]+\]/ {n++; if (/\(cached\)$/) c++} END {printf "%d/%d", c, n}' "$work/stderr"
}

# lambda-ship's own time in a run: the wall time less the critical path of the
# work it waits on (each platform's build, then its local invocation in a
# sandbox and its push side by side, all platforms concurrently; then the
# function updates and smoke tests).
# What is left still holds the AWS calls before the build (reading the
# functions, the repository, the token), so it is an upper bound.
overhead() {
  python3 - "$1" "$work/report.json" <<'PY'
import json, sys
wall, report = float(sys.argv[1]), json.load(open(sys.argv[2]))
images = report["build"]["images"]
# Each push runs while its image is invoked locally.
local = lambda i: ((i.get("local_smoke") or {}).get("total_ms") or 0) / 1000
images = max(i["build_seconds"] + max(local(i), i["push_seconds"]) for i in images)
deploys = max(f["update_seconds"] for f in report["functions"])
print(f"{wall - images - deploys:.3f}")
PY
}

median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }

declare -a rss_kb=() overheads=() floors=() shares=()
declare -A med_stock med_ours med_cached
scenarios=${SCENARIOS:-a b c d e f}
for scenario in $scenarios; do
  t_stock=() t_ours=() t_cached=()
  context=$ctx
  [ "$scenario" = e ] && context=$ctx_ms
  contenders=(stock ours)
  case $scenario in d | e) contenders=(stock cached ours) ;; esac
  # Every contender starts from the same state: in b and c a warm cache and a
  # deployed commit; in d and e the previous commit in its repository.
  declare -A previous=()
  if [ "$scenario" != a ]; then
    for who in "${contenders[@]}"; do
      base=$(sha)
      case $who in
        stock) stock "bench-stock-$scenario" "$base" "" "$context" ;;
        cached) stock "bench-cached-$scenario" "$base" inline "$context" ;;
        ours) ours "bench-ours-$scenario" "$base" "$context" ;;
      esac
      previous[$who]=$base
    done
  fi
  for ((i = 1; i <= runs; i++)); do
    for who in "${contenders[@]}"; do
      repo="bench-$who-$scenario"
      case $scenario in
        a) cold; repo="bench-$who-a-$(sha | head -c 8)"; s=$(sha) ;;
        b) change; s=$(sha) ;;
        c) s=${previous[$who]} ;;
        f) printf 'notes %s\n' "$(sha)" >>"$work/README.md"; s=$(sha) ;;
        d | e) empty_engine; change "$context"; s=$(sha) ;;
      esac
      start=$(now)
      case $who in
        stock) stock "$repo" "$s" "" "$context" ;;
        cached) stock "$repo" "$s" "${previous[$who]}" "$context" ;;
        # A cold deploy imports no cache: not even from the image the
        # functions run now, which an earlier run of (a) pushed.
        ours) if [ "$scenario" = a ]; then ours "$repo" "$s" "$context" --no-cache-from; else ours "$repo" "$s" "$context"; fi ;;
      esac
      took=$(since "$start")
      case $scenario in d | e) previous[$who]=$s ;; esac
      case $who in
        stock) t_stock+=("$took") ;;
        cached) t_cached+=("$took") ;;
        ours) t_ours+=("$took") ;;
      esac
      if [ "$who" = ours ] && [ "$scenario" = a ]; then overheads+=("$(overhead "$took")"); fi
      if [ "$who" = ours ] && [ "$scenario" = e ]; then shares+=("$(builder_share)"); fi
      printf 'scenario %s run %d %-6s %7.2fs\n' "$scenario" "$i" "$who" "$took"
    done
    if [ "$scenario" = a ]; then
      floors+=("$(floor "bench-floor-$(sha | head -c 8)" "$(sha)")")
      printf 'scenario a run %d %-6s %7.2fs\n' "$i" floor "${floors[-1]}"
    fi
  done
  med_stock[$scenario]=$(median "${t_stock[@]}")
  med_ours[$scenario]=$(median "${t_ours[@]}")
  [ ${#t_cached[@]} -gt 0 ] && med_cached[$scenario]=$(median "${t_cached[@]}")
done

start=$(now)
for _ in $(seq 20); do "$bin" --version >/dev/null; done
startup_ms=$(awk -v t="$(since "$start")" 'BEGIN {printf "%.1f", t * 1000 / 20}')
peak_mb=$(printf '%s\n' "${rss_kb[@]}" | sort -n | tail -1 | awk '{printf "%.1f", $1 / 1024}')
size_mb=$(stat -c %s "$bin" | awk '{printf "%.1f", $1 / 1000000}')

echo
printf '%-44s %9s %9s %12s %7s %7s\n' "scenario (medians of $runs)" "stock" "cached" "lambda-ship" "÷stock" "÷cached"
for scenario in $scenarios; do
  case $scenario in
    a) name="(a) cold cache, new repository" ;;
    b) name="(b) one-line change, warm cache" ;;
    c) name="(c) re-run of a deployed commit" ;;
    d) name="(d) fresh runner, one-line change" ;;
    e) name="(e) fresh runner, multi-stage" ;;
    f) name="(f) a change outside the context" ;;
  esac
  cached=${med_cached[$scenario]:-}
  [ -n "$cached" ] && cached=$(printf '%.2f' "$cached")
  printf '%-44s %8.2fs %9s %11.2fs %7s %7s\n' "$name" "${med_stock[$scenario]}" \
    "${cached:+${cached}s}" "${med_ours[$scenario]}" \
    "$(ratio "${med_ours[$scenario]}" "${med_stock[$scenario]}")" \
    "${cached:+$(ratio "${med_ours[$scenario]}" "$cached")}"
done
if [ ${#floors[@]} -gt 0 ]; then
  floor_med=$(median "${floors[@]}")
  printf '%-44s %8.2fs  lambda-ship (a) ÷ floor: %s\n' "floor of (a)" "$floor_med" "$(ratio "${med_ours[a]}" "$floor_med")"
  printf '%-44s %8ss\n' "lambda-ship overhead in (a), median" "$(median "${overheads[@]}")"
fi
if [ -n "${med_ours[a]:-}" ] && [ -n "${med_ours[d]:-}" ]; then
  printf '%-44s %8s\n' "lambda-ship (d) ÷ its own cold (a)" "$(ratio "${med_ours[d]}" "${med_ours[a]}")"
fi
if [ ${#shares[@]} -gt 0 ]; then
  printf '%-44s %8s\n' "builder-stage steps from cache in (e)" "${shares[*]}"
fi
printf '%-44s %8s\n' "lambda-ship peak RSS" "$peak_mb MB"
printf '%-44s %8s\n' "lambda-ship start-up (--version)" "$startup_ms ms"
printf '%-44s %8s\n' "release binary" "$size_mb MB"
