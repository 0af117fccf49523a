#!/usr/bin/env bash
# What signing adds to a deploy, side by side on the local test bed: each
# run deploys a new commit with a one-line change to an x86_64 and an arm64
# function (arm64 under QEMU), built on a warm cache:
#   unsigned:  lambda-ship deploy
#   signed:    ... --sign-key KEY (moto's KMS, ECC_NIST_P256)
#   required:  ... --sign-key KEY --require-signature KEY
# Runs alternate; medians of N (default 5).
#
# Usage: bench/signing.sh [RUNS]     (as root; starts the test bed)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}

tests/testbed/up >/dev/null
cargo build --release --quiet
bin=$PWD/target/release/lambda-ship
export DOCKER_HOST=unix:///var/run/docker.sock
export AWS_ENDPOINT_URL=http://127.0.0.1:5050 AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing
export LAMBDA_SHIP_REGISTRY=127.0.0.1:5000 LAMBDA_SHIP_PROGRESS=plain

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

now() { date +%s.%N; }
since() { awk -v a="$(now)" -v b="$1" 'BEGIN {printf "%.3f", a - b}'; }
sha() { head -c 20 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
last() { echo "${@: -1}"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }

key_id=$(aws kms create-key --key-spec ECC_NIST_P256 --key-usage SIGN_VERIFY \
  --query KeyMetadata.KeyId --output text)
key=alias/bench-signing-$(sha | head -c 8)
aws kms create-alias --alias-name "$key" --target-key-id "$key_id"

suffix=$(sha | head -c 8)
contenders=(unsigned signed required)
for c in "${contenders[@]}"; do
  for arch in x86_64 arm64; do
    aws lambda create-function --function-name "bench-sig-$c-$arch-$suffix" \
      --package-type Image --architectures "$arch" \
      --code ImageUri=123456789012.dkr.ecr.us-east-1.amazonaws.com/previous:latest \
      --role arn:aws:iam::123456789012:role/lambda-ship-test-function >/dev/null
  done
  mkdir -p "$work/$c"
  cp -r tests/fixtures/function/. "$work/$c/"
done

# deploy CONTENDER: one new commit of its context, deployed; prints seconds.
deploy() {
  local c=$1 extra=()
  case $c in
    signed) extra=(--sign-key "$key") ;;
    required) extra=(--sign-key "$key" --require-signature "$key") ;;
  esac
  echo "change $(sha)" >"$work/$c/function/change.txt"
  local t0
  t0=$(now)
  "$bin" deploy --repository "bench-sig-$c-$suffix" --sha "$(sha)" --context "$work/$c" \
    --function "bench-sig-$c-x86_64-$suffix" --function "bench-sig-$c-arm64-$suffix" \
    "${extra[@]}" >/dev/null 2>"$work/$c.log"
  since "$t0"
}

# A first deploy of each, so that every measured run has a warm cache.
for c in "${contenders[@]}"; do deploy "$c" >/dev/null; done

declare -A times
for run in $(seq "$runs"); do
  for c in "${contenders[@]}"; do
    times[$c]+="$(deploy "$c") "
  done
  echo "run $run: $(last ${times[unsigned]}) $(last ${times[signed]}) $(last ${times[required]})" >&2
done

# shellcheck disable=SC2086
u=$(median ${times[unsigned]}) s=$(median ${times[signed]}) r=$(median ${times[required]})
echo
echo "| deploy of a one-line change, x86_64 and arm64 | median of $runs | ÷ unsigned | + over unsigned |"
echo "|---|---|---|---|"
echo "| unsigned | ${u} s | 1.00 | |"
echo "| --sign-key | ${s} s | $(ratio "$s" "$u") | $(awk -v a="$s" -v b="$u" 'BEGIN {printf "%+.2f s", a - b}') |"
echo "| --sign-key --require-signature | ${r} s | $(ratio "$r" "$u") | $(awk -v a="$r" -v b="$u" 'BEGIN {printf "%+.2f s", a - b}') |"
