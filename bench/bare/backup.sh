#!/usr/bin/env bash
# The runbook's section 1 as a person would script it, for bench/run.py to time against backup.yml:
# `snapshot save` on one member, `snapshot status` of the file, then copy it to the controller.
# No other checks. The member is the first of BARE_HOSTS (backup.yml also takes the first healthy one).
#   BARE_DEST  where the copy goes on the controller
set -euo pipefail
# shellcheck source=bench/bare/common.sh
. "$(dirname "$0")/common.sh"
: "${BARE_DEST:?}"
host=${HOSTS[0]}

step "snapshot save and status on $host"
# The runbook's commands, in the SSH user's home directory. etcd 3.5 and later read a snapshot file with
# etcdutl (etcdctl's `snapshot status` is deprecated there); 3.4 has only etcdctl.
# (single quotes: $ENDPOINT and $tool are the node's)
# shellcheck disable=SC2016
on "$host" 'export ETCDCTL_API=3 ENDPOINT=http://127.0.0.1:2379
  etcdctl --endpoints $ENDPOINT snapshot save snapshot.db
  tool=etcdctl; if command -v etcdutl >/dev/null; then tool=etcdutl; fi
  $tool --write-out=table snapshot status snapshot.db'

step "copy to $BARE_DEST"
copy_from "$host" snapshot.db "$BARE_DEST"
step "done"
