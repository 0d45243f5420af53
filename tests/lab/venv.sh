# shellcheck shell=bash
# Sourced by tests/lab/setup.sh, tests/lab/cores.sh, tests/lab/bin/core and tests/run.sh.
# venv_from PINS DIR LOG: a venv at DIR with the pinned packages of the requirements file PINS, on the host's
# python3, made again only when PINS changed (DIR/.requirements.sha256 holds the sha256 of the PINS it was made
# from); pip's output goes to LOG, and its last lines to stderr when it fails.
venv_from() {
  local pins=$1 dir=$2 log=$3 want
  want=$(sha256sum "$pins" | cut -d' ' -f1)
  [ "$(cat "$dir/.requirements.sha256" 2>/dev/null)" = "$want" ] && return 0
  printf '\033[1m[venv]\033[0m creating %s from %s\n' "$dir" "$pins"
  rm -rf "$dir"
  python3 -m venv "$dir"
  if ! { "$dir/bin/pip" install --disable-pip-version-check --upgrade pip &&
         "$dir/bin/pip" install --disable-pip-version-check -r "$pins"; } >"$log" 2>&1; then
    grep -v 'is ignored' "$log" | tail -20 >&2
    return 1
  fi
  echo "$want" >"$dir/.requirements.sha256"
}

# core_place VERSION: where that ansible-core runs, `host` or `container` (tests/cores/where.txt); nothing for a
# version the lab does not have.
core_places=$(cd "$(dirname "${BASH_SOURCE[0]}")/../cores" && pwd)/where.txt
core_place() {
  awk -v v="$1" '!/^#/ && $1 == v {print $2}' "$core_places"
}
