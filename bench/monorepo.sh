#!/usr/bin/env bash
# A monorepo of 10 images and 20 functions (an x86_64 and an arm64 function
# per image, arm64 under QEMU), side by side on the local test bed:
#   one run:   lambda-ship deploy of the whole lambda-ship.toml ([images.sN])
#   ten jobs:  what users do today, one lambda-ship job per service, one after
#              the other (--repository, --context services/sN, its functions)
#   alone:     the one changed image's job alone: the yardstick
# Scenarios, each contender with repositories and functions of its own,
# runs alternating, medians of N (default 3):
#   (1) warm: everything deployed; a commit changes one service
#   (2) cold: new repositories, an empty build cache, every image built
#   (3) (2) with two amd64 engines in the pool (the two engines of the test
#       bed) against the local engine alone
#
# Usage: bench/monorepo.sh [RUNS]     (as root; starts the test bed)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
images=10
ecr=123456789012.dkr.ecr.us-east-1.amazonaws.com

tests/testbed/up >/dev/null
cargo build --release --quiet
bin=$PWD/target/release/lambda-ship
export DOCKER_HOST=unix:///var/run/docker.sock
export AWS_ENDPOINT_URL=http://127.0.0.1:5050 AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing
export LAMBDA_SHIP_REGISTRY=127.0.0.1:5000 LAMBDA_SHIP_PROGRESS=plain
engine_b=unix:///var/run/lambda-ship-farm/docker.sock

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
log=$work/log

now() { date +%s.%N; }
since() { awk -v a="$(now)" -v b="$1" 'BEGIN {printf "%.3f", a - b}'; }
sha() { head -c 20 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
cold() {
  for socket in /var/run/docker.sock /var/run/lambda-ship-farm/docker.sock; do
    /usr/bin/docker -H "unix://$socket" builder prune -af >/dev/null
  done
}

# monorepo DIR PREFIX: ten services, each a small function with real RUN
# work, and the lambda-ship.toml of their images and twenty functions, all
# named PREFIX-….
monorepo() {
  local dir=$1 prefix=$2 i arch
  mkdir -p "$dir"
  : >"$dir/lambda-ship.toml"
  for i in $(seq 0 $((images - 1))); do
    local s=$dir/services/s$i
    mkdir -p "$s/function"
    cp tests/fixtures/function/bootstrap "$s/"
    cp -r tests/fixtures/function/busybox "$s/"
    cp tests/fixtures/function/function/handler.sh "$s/function/"
    echo "service $i" >"$s/function/service.txt"
    sed 's|^WORKDIR /var/task|RUN dd if=/dev/zero bs=1M count=8 2>/dev/null \| sha256sum > /var/task/work\nWORKDIR /var/task|' \
      tests/fixtures/function/Dockerfile >"$s/Dockerfile"
    printf '[images.s%s]\ncontext = "services/s%s"\nrepository = "%s-s%s"\n\n' "$i" "$i" "$prefix" "$i" >>"$dir/lambda-ship.toml"
    for arch in x86_64 arm64; do
      local fn=$prefix-s$i-$arch
      aws lambda get-function --function-name "$fn" >/dev/null 2>&1 \
        || aws lambda create-function --function-name "$fn" --package-type Image --architectures "$arch" \
          --code ImageUri=$ecr/bench:initial --role arn:aws:iam::123456789012:role/lambda-ship-test-function >/dev/null
      printf '[functions.%s]\nimage = "s%s"\narchitecture = "%s"\n\n' "$fn" "$i" "$arch" >>"$dir/lambda-ship.toml"
    done
  done
}

# one_run DIR [FLAGS]: the whole file in one deploy.
one_run() { local dir=$1; shift; "$bin" deploy --context "$dir" --sha "$(sha)" --no-smoke "$@" >>"$log" 2>&1; }
# job DIR PREFIX I SHA: one service's own job.
job() {
  "$bin" deploy --repository "$2-s$3" --context "$1/services/s$3" --sha "$4" --no-smoke \
    --function "$2-s$3-x86_64" --function "$2-s$3-arm64" >>"$log" 2>&1
}
ten_jobs() { local s i; s=$(sha); for i in $(seq 0 $((images - 1))); do job "$1" "$2" "$i" "$s"; done; }
change() { printf '# change %s\n' "$(sha)" >>"$1/services/s3/function/handler.sh"; }
timed() { local t; t=$(now); "$@" || { tail -30 "$log"; exit 1; }; since "$t"; }

# (1) warm: each contender's own monorepo, deployed once before the runs.
monorepo "$work/one" bench-mono-one
monorepo "$work/jobs" bench-mono-jobs
monorepo "$work/alone" bench-mono-alone
one_run "$work/one"
ten_jobs "$work/jobs" bench-mono-jobs
job "$work/alone" bench-mono-alone 3 "$(sha)"
declare -a w_one w_jobs w_alone
for r in $(seq "$runs"); do
  change "$work/one"; w_one+=("$(timed one_run "$work/one")")
  change "$work/jobs"; w_jobs+=("$(timed ten_jobs "$work/jobs" bench-mono-jobs)")
  change "$work/alone"; w_alone+=("$(timed job "$work/alone" bench-mono-alone 3 "$(sha)")")
done

# (2) cold and (3) the pool: new repositories each run, an empty build cache.
declare -a c_one c_jobs c_pool
for r in $(seq "$runs"); do
  monorepo "$work/c1-$r" "bench-cold-one-$r-$(sha | head -c 6)"
  monorepo "$work/c2-$r" "bench-cold-jobs-$r-$(sha | head -c 6)"
  monorepo "$work/c3-$r" "bench-cold-pool-$r-$(sha | head -c 6)"
  cold; c_one+=("$(timed one_run "$work/c1-$r")")
  prefix=$(sed -n 's/^repository = "\(.*\)-s0"$/\1/p' "$work/c2-$r/lambda-ship.toml")
  cold; c_jobs+=("$(timed ten_jobs "$work/c2-$r" "$prefix")")
  cold; c_pool+=("$(timed one_run "$work/c3-$r" \
    --builder "linux/amd64=$DOCKER_HOST" --builder "linux/amd64=$engine_b" \
    --builder "linux/arm64=$DOCKER_HOST")")
done

m() { median "$@"; }
printf '%-52s %9s\n' "scenario (medians of $runs, $images images, $((images * 2)) functions)" "seconds"
printf '%-52s %9s\n' "(1) one service changed: one run" "$(m "${w_one[@]}")"
printf '%-52s %9s\n' "(1) one service changed: ten jobs" "$(m "${w_jobs[@]}")"
printf '%-52s %9s\n' "(1) one service changed: the one image alone" "$(m "${w_alone[@]}")"
printf '%-52s %9s\n' "(1) one run ÷ the image alone" "$(ratio "$(m "${w_one[@]}")" "$(m "${w_alone[@]}")")"
printf '%-52s %9s\n' "(1) one run ÷ ten jobs" "$(ratio "$(m "${w_one[@]}")" "$(m "${w_jobs[@]}")")"
printf '%-52s %9s\n' "(2) cold: one run" "$(m "${c_one[@]}")"
printf '%-52s %9s\n' "(2) cold: ten jobs" "$(m "${c_jobs[@]}")"
printf '%-52s %9s\n' "(2) one run ÷ ten jobs" "$(ratio "$(m "${c_one[@]}")" "$(m "${c_jobs[@]}")")"
printf '%-52s %9s\n' "(3) cold, two amd64 engines: one run" "$(m "${c_pool[@]}")"
printf '%-52s %9s\n' "(3) two amd64 engines ÷ one engine" "$(ratio "$(m "${c_pool[@]}")" "$(m "${c_one[@]}")")"
