#!/usr/bin/env bash
# A restore drill as a person would script it, for bench/run.py to time against verify_backup.yml: copy the
# snapshot to the first node, restore it into a temporary dir, start etcd on it on loopback ports in the
# background, poll until it answers, count the keys and ask its KV hash, stop it and remove the dir. No other
# checks, nothing compared (the script prints what it read).
#   BARE_SNAPSHOT       the snapshot on the controller
#   BARE_NODE_SNAPSHOT  where the copy goes on the node
set -euo pipefail
# shellcheck source=bench/bare/common.sh
. "$(dirname "$0")/common.sh"
: "${BARE_SNAPSHOT:?}" "${BARE_NODE_SNAPSHOT:?}"
host=${HOSTS[0]}

step "copy the snapshot to $host"
copy_to "$host" "$BARE_SNAPSHOT" "$BARE_NODE_SNAPSHOT"

step "restore, start, read and stop a scratch etcd on $host"
as_root "$host" "$BARE_NODE_SNAPSHOT" <<'SH'
set -e
export ETCDCTL_API=3
tool=etcdctl; if command -v etcdutl >/dev/null; then tool=etcdutl; fi
dir=$(mktemp -d /var/tmp/drill.XXXXXX)
pid=""
# etcd exits 143 on the TERM: not the script's failure
trap '[ -z "$pid" ] || { kill "$pid"; wait "$pid" || true; }; rm -rf "$dir" "$1"' EXIT
$tool snapshot restore "$1" --data-dir "$dir/data" --name drill \
  --initial-cluster drill=http://127.0.0.1:23800 --initial-advertise-peer-urls http://127.0.0.1:23800 >/dev/null 2>&1
etcd --name drill --data-dir "$dir/data" --listen-client-urls http://127.0.0.1:23790 \
  --advertise-client-urls http://127.0.0.1:23790 --listen-peer-urls http://127.0.0.1:23800 \
  --initial-advertise-peer-urls http://127.0.0.1:23800 --initial-cluster drill=http://127.0.0.1:23800 \
  >"$dir/etcd.log" 2>&1 &
pid=$!
until etcdctl --endpoints=http://127.0.0.1:23790 endpoint health >/dev/null 2>&1; do sleep 0.2; done
etcdctl --endpoints=http://127.0.0.1:23790 get "" --from-key --keys-only --limit=1 -w json | head -c 200; echo
etcdctl --endpoints=http://127.0.0.1:23790 endpoint hashkv
SH
step "done"
