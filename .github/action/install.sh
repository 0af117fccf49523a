#!/usr/bin/env bash
# Installs the lambda-ship binary for this runner: the release asset of the
# action's own version for Linux x64 or ARM64, verified against its SHA-256,
# or, when there is no such release (a branch or a commit of the action),
# built from the action's own checkout with cargo install --locked.
# Writes the binary's path to the step output `bin`.
set -euo pipefail

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
  tmp=$(mktemp -d)
  if curl -fsSL --retry 3 -o "$tmp/$asset" "$base/$asset" \
    && curl -fsSL --retry 3 -o "$tmp/$asset.sha256" "$base/$asset.sha256"; then
    # The checksum file names the asset; check it before unpacking anything.
    (cd "$tmp" && sha256sum --check --strict "$asset.sha256")
    tar -xzf "$tmp/$asset" -C "$dest/bin" lambda-ship
    installed="release $version ($target)"
  else
    echo "::notice title=lambda-ship::no release asset $asset; building from source"
  fi
  rm -rf "$tmp"
fi

if [ -z "$installed" ]; then
  cargo install --locked --quiet --path "${ACTION_PATH:?}" --root "$dest"
  installed="built from ${ACTION_REF:-the action's checkout}"
fi

"$dest/bin/lambda-ship" --version
echo "lambda-ship: $installed"
echo "bin=$dest/bin/lambda-ship" >>"$GITHUB_OUTPUT"
