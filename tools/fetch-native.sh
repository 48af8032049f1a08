#!/usr/bin/env bash
# Fetches llama.cpp's prebuilt libraries (and, with --headers, the matching llama.h) from npm packages
# into a cache folder, once. Called by the build (src/Inference/LlamaNative.targets) and by
# `agent-theater native fetch`. Prints the folder that holds the libraries.
#   usage: fetch-native.sh [--cuda] [--headers] [--cache DIR] [--version X.Y.Z]
set -euo pipefail
version=3.14.5
flavour=cpu
headers=0
cache="${AGENTTHEATER_NATIVE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/agent-theater/native}"
while [ $# -gt 0 ]; do
  case "$1" in
    --cuda) flavour=cuda ;;
    --headers) headers=1 ;;
    --cache) cache="$2"; shift ;;
    --version) version="$2"; shift ;;
    *) echo "fetch-native.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
  shift
done

command -v npm >/dev/null || { echo "fetch-native.sh: npm is needed to fetch llama.cpp (apt-get install npm)" >&2; exit 3; }
mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9

fetch() { # package, destination: npm pack the package and unpack it into destination
  local package="$1" destination="$2" work
  work=$(mktemp -d)
  trap 'rm -rf "$work"' RETURN
  echo "fetch-native.sh: npm pack $package" >&2
  (cd "$work" && npm pack --silent "$package" >/dev/null)
  mkdir -p "$work/unpacked"
  tar xzf "$work"/*.tgz -C "$work/unpacked"
  rm -rf "$destination.tmp" && mkdir -p "$destination.tmp"
  mv "$work/unpacked/package"/* "$destination.tmp/"
  rm -rf "$destination" && mv "$destination.tmp" "$destination"
}

if [ "$flavour" = cpu ]; then
  package="@node-llama-cpp/linux-x64@$version"; bins=linux-x64
else
  package="@node-llama-cpp/linux-x64-cuda@$version"; bins=linux-x64-cuda
fi
libs="$cache/$flavour-$version"
if [ ! -f "$libs/.complete" ]; then
  fetch "$package" "$libs.pkg"
  rm -rf "$libs" && mkdir -p "$libs"
  # Keep one file per library under its SONAME (the package repeats each under three names).
  for f in "$libs.pkg/bins/$bins"/*.so*; do
    name=$(basename "$f")
    case "$name" in
      libggml-base.so) ;;
      libllama.*.so.0|libggml.*.so.0|libggml-base.so.0|libggml-*.so) cp "$f" "$libs/$name" ;;
    esac
  done
  cp "$libs.pkg/bins/$bins/_nlcBuildMetadata.json" "$libs/build-metadata.json"
  rm -rf "$libs.pkg"
  touch "$libs/.complete"
fi

if [ "$headers" = 1 ]; then
  src="$cache/llama-src-$version"
  if [ ! -f "$src/.complete" ]; then
    fetch "node-llama-cpp@$version" "$src.pkg"
    rm -rf "$src"
    git clone -q "$src.pkg/llama/gitRelease.bundle" "$src" 2>/dev/null
    rm -rf "$src.pkg"
    touch "$src/.complete"
  fi
  echo "$src" >&2
fi
echo "$libs"
