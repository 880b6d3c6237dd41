#!/usr/bin/env bash
# Builds llama.cpp's llama-server for os1's tests, once, and caches it.
#   scripts/llama-server.sh          – build if missing, print the binary's path
#   scripts/llama-server.sh --path   – print where the binary is (or would be); build nothing
#
# The source is the llama.cpp tree that npm `node-llama-cpp` ships as a git bundle
# (llama/gitRelease.bundle); the tarball's integrity is pinned below, so the build
# is the same everywhere and needs only the npm registry, no GitHub and no model hub.
# Only the llama-server target is built: Release, GGML_NATIVE=OFF (a binary that
# runs on any x86-64 with AVX2), static libraries, no OpenSSL, no web UI download.
#
# Layout under ${OS1_CACHE_DIR:-$HOME/.cache/os1}/llama-server/<version>/:
#   bin/llama-server  the binary (static llama/ggml libraries)
#   vocab/            the tree's vocab-only ggml-vocab-*.gguf files (real tokenizers,
#                     no weights), which tests use to write tiny random-weight models
#   .pin              package and integrity of a finished build; present means ready
# The internal/llm/llamaserver tests find it there (or at $OS1_LLAMA_SERVER).
# A build takes ~15–30 minutes on 2 cores; later runs return at once.
set -euo pipefail

VERSION="3.22.1"
PKG="node-llama-cpp@$VERSION"
PKG_INTEGRITY="sha512-bltIipuWmc123H7tMIgDGKSsSrhmhlQYeVUC48XTjVW7XGJJiJJyCdlTMzQ/LiWoPkGDpcL4FviDpgw7qfTiDw=="

CACHE_DIR=${OS1_CACHE_DIR:-$HOME/.cache/os1}
BASE="$CACHE_DIR/llama-server"
DEST="$BASE/node-llama-cpp-$VERSION"
WORK="$BASE/work-$VERSION" # source and build tree; kept until the build succeeds, so a rerun resumes

say() { echo "llama-server: $*" >&2; }
die() { say "$*"; exit 1; }

ready() {
  [ -f "$DEST/.pin" ] && [ "$(cat "$DEST/.pin")" = "$PKG $PKG_INTEGRITY" ] && [ -x "$DEST/bin/llama-server" ] &&
    compgen -G "$DEST/vocab/ggml-vocab-*.gguf" >/dev/null
}

if [ "${1:-}" = "--path" ]; then echo "$DEST/bin/llama-server"; exit 0; fi
if ready; then echo "$DEST/bin/llama-server"; exit 0; fi

for c in npm node git cmake make c++; do
  command -v "$c" >/dev/null 2>&1 || die "$c is needed to build llama-server (Debian: apt-get install -y nodejs npm git cmake build-essential)"
done

mkdir -p "$BASE"
exec 8>"$BASE/.lock"
flock 8 # one build at a time; a second caller finds it ready
if ready; then echo "$DEST/bin/llama-server"; exit 0; fi

start=$(date +%s)
mkdir -p "$WORK"
if [ ! -d "$WORK/src/.git" ]; then
  say "fetching $PKG (npm pack)…"
  rm -rf "$WORK/pack" "$WORK/src" && mkdir -p "$WORK/pack"
  (cd "$WORK/pack" && npm pack --silent "$PKG" >/dev/null) || die "npm pack $PKG failed (is the npm registry reachable?)"
  tgz=$(ls "$WORK/pack"/*.tgz)
  got=$(node -e 'const c=require("crypto"),f=require("fs");process.stdout.write("sha512-"+c.createHash("sha512").update(f.readFileSync(process.argv[1])).digest("base64"))' "$tgz")
  [ "$got" = "$PKG_INTEGRITY" ] || die "$PKG tarball integrity mismatch: got $got, want $PKG_INTEGRITY"
  tar -xzf "$tgz" -C "$WORK/pack" package/llama/gitRelease.bundle
  say "cloning the llama.cpp tree from the package's git bundle…"
  git clone -q "$WORK/pack/package/llama/gitRelease.bundle" "$WORK/src.tmp" 2>/dev/null ||
    { rm -rf "$WORK/src.tmp"; die "git clone of the bundle failed"; }
  mv -T "$WORK/src.tmp" "$WORK/src"
  rm -rf "$WORK/pack"
fi
say "llama.cpp $(git -C "$WORK/src" rev-parse --short HEAD); configuring (cmake)…"
cmake -S "$WORK/src" -B "$WORK/build" -DCMAKE_BUILD_TYPE=Release \
  -DGGML_NATIVE=OFF -DBUILD_SHARED_LIBS=OFF -DLLAMA_OPENSSL=OFF \
  -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=ON \
  -DLLAMA_BUILD_UI=OFF -DLLAMA_USE_PREBUILT_UI=OFF >"$WORK/cmake.log" 2>&1 ||
  { tail -20 "$WORK/cmake.log" >&2; die "cmake configure failed (log: $WORK/cmake.log)"; }
jobs=${OS1_BUILD_JOBS:-$(nproc)}
say "building llama-server with $jobs jobs (15–30 minutes on 2 cores; log: $WORK/build.log)…"
cmake --build "$WORK/build" --target llama-server -j "$jobs" >"$WORK/build.log" 2>&1 ||
  { tail -30 "$WORK/build.log" >&2; die "build failed (log: $WORK/build.log)"; }
bin=$(find "$WORK/build" -type f -name llama-server -perm -u+x | head -1)
[ -n "$bin" ] || die "the build finished but no llama-server binary was found"

rm -rf "$DEST" "$DEST.tmp" && mkdir -p "$DEST.tmp/bin" "$DEST.tmp/vocab"
cp "$bin" "$DEST.tmp/bin/llama-server"
cp "$WORK"/src/models/ggml-vocab-*.gguf "$DEST.tmp/vocab/"
cp "$WORK/src/LICENSE" "$DEST.tmp/LICENSE"
git -C "$WORK/src" rev-parse HEAD >"$DEST.tmp/COMMIT"
"$DEST.tmp/bin/llama-server" --version >/dev/null 2>&1 || die "the built llama-server does not start"
echo "$PKG $PKG_INTEGRITY" >"$DEST.tmp/.pin"
mv -T "$DEST.tmp" "$DEST"
rm -rf "$WORK"
say "ready in $(( $(date +%s) - start ))s: $DEST/bin/llama-server"
echo "$DEST/bin/llama-server"
