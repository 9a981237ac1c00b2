#!/usr/bin/env bash
# Sets heapwise up on a Debian bookworm machine: installs the build and test dependencies (Debian
# packages only; run as root, or with sudo available) and builds everything in build/ (or
# $HEAPWISE_BUILD_DIR). Safe to run again: it installs only what is missing and rebuilds
# incrementally.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  meson ninja-build g++ pkg-config          # build
  libunwind-dev libmimalloc-dev libzstd-dev liblz4-dev # tracer: stacks, private memory, compression
  libdw-dev                                 # analyzer: symbols
  libcli11-dev nlohmann-json3-dev libfmt-dev  # heapwise command: options, JSON, formatting
  catch2 libbenchmark-dev                   # tests, micro benchmarks
  python3 curl wget git procps              # end-to-end workloads and the example
  heaptrack hyperfine zstd                  # comparisons in bench/ and the differential test
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "heapwise setup: installing ${missing[*]}" >&2
  sudo_cmd=()
  ((EUID == 0)) || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
fi

builddir=${HEAPWISE_BUILD_DIR:-build}
if [[ ! -f "$builddir/build.ninja" ]]; then
  meson setup "$builddir" "$@" >/dev/null
elif (($#)); then
  meson configure "$builddir" "$@" >/dev/null
fi
ninja -C "$builddir"
