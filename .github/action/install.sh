#!/usr/bin/env bash
# Installs the lambda-ship binary for this runner: the release asset of the
# action's own version for Linux x64 or ARM64, verified against the SHA-256
# pinned in this checkout of the action (.github/action/checksums.txt, written
# by the release that tagged it: an action pinned by commit SHA pins the binary
# too). A version this checkout has no pinned sum for is verified against the
# release's own checksum file, with a warning. When there is no such release
# (a branch or a commit of the action) it is built from the action's own
# checkout with cargo install --locked. A download that does not match its
# checksum is refused. Writes the binary's path to the step output `bin`.
set -euo pipefail

action_path=${ACTION_PATH:-$(cd "$(dirname "$0")/../.." && pwd)}
dest="${RUNNER_TEMP:-/tmp}/lambda-ship"
mkdir -p "$dest/bin"

version=${LAMBDA_SHIP_VERSION:-}
if [ -z "$version" ] && [[ "${ACTION_REF:-}" =~ ^v[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
  version=$ACTION_REF
fi

case "${RUNNER_OS:-Linux}/${RUNNER_ARCH:-X64}" in
  Linux/X64) target=x86_64-unknown-linux-musl ;;
  Linux/ARM64) target=aarch64-unknown-linux-musl ;;
  *) target="" ;;
esac

installed=""
if [ -n "$version" ] && [ -n "$target" ] && [ -n "${ACTION_REPOSITORY:-}" ]; then
  asset="lambda-ship-$version-$target.tar.gz"
  base="${GITHUB_SERVER_URL:?}/$ACTION_REPOSITORY/releases/download/$version"
  pinned=""
  if [ -f "$action_path/.github/action/checksums.txt" ]; then
    pinned=$(awk -v a="$asset" '$2 == a || $2 == "*" a { print $1 }' \
      "$action_path/.github/action/checksums.txt")
  fi
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  if curl -fsSL --retry 3 -o "$tmp/$asset" "$base/$asset"; then
    if [ -n "$pinned" ]; then
      expected=$pinned
    elif curl -fsSL --retry 3 -o "$tmp/$asset.sha256" "$base/$asset.sha256"; then
      echo "::warning title=lambda-ship::no SHA-256 of $asset is pinned in this action; checked against the release's own checksum file"
      expected=$(awk '{ print $1; exit }' "$tmp/$asset.sha256")
    else
      echo "::error title=lambda-ship::$asset has no checksum, pinned or released: not running it"
      exit 1
    fi
    actual=$(sha256sum "$tmp/$asset" | awk '{ print $1 }')
    if [ "$actual" != "$expected" ]; then
      echo "::error title=lambda-ship::$asset does not match its SHA-256 (expected $expected, got $actual): refusing to run it. The download was altered or the release replaced; pin the action to a release's commit SHA"
      exit 1
    fi
    tar -xzf "$tmp/$asset" -C "$dest/bin" lambda-ship
    installed="release $version ($target)"
  else
    echo "::notice title=lambda-ship::no release asset $asset; building from source"
  fi
fi

if [ -z "$installed" ]; then
  cargo install --locked --quiet --path "$action_path" --root "$dest"
  installed="built from ${ACTION_REF:-the action checkout}"
fi

"$dest/bin/lambda-ship" --version
echo "lambda-ship: $installed"
echo "bin=$dest/bin/lambda-ship" >>"$GITHUB_OUTPUT"
