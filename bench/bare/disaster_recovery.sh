#!/usr/bin/env bash
# The runbook's section 3 as a person would script it, for bench/run.py to time against disaster_recovery.yml,
# serially and with no other checks: stop etcd on every node, move the old data dir aside, copy the snapshot to
# every node, restore it on each node one after another, start all, then poll until the cluster is healthy.
#   BARE_SNAPSHOT         the snapshot on the controller
#   BARE_INITIAL_CLUSTER  name=peer-URL of every member (from their env files), the same on every node
#   BARE_SERVICE_USER     the user the etcd unit runs as (owner of the restored data dir)
#   BARE_NODE_SNAPSHOT    where the copy goes on each node
set -euo pipefail
# shellcheck source=bench/bare/common.sh
. "$(dirname "$0")/common.sh"
: "${BARE_SNAPSHOT:?}" "${BARE_INITIAL_CLUSTER:?}" "${BARE_SERVICE_USER:?}" "${BARE_NODE_SNAPSHOT:?}"

for host in "${HOSTS[@]}"; do
  step "stop etcd on $host"
  on "$host" 'sudo systemctl stop etcd'
done

# mv /data/etcd.data /data/etcd.data.old, where there is a data dir left
for host in "${HOSTS[@]}"; do
  step "move the old data dir aside on $host"
  as_root "$host" "$BARE_ENV_FILE" <<'SH'
source "$1"
if [ -e "$ETCD_DATA_DIR" ]; then mv "$ETCD_DATA_DIR" "$ETCD_DATA_DIR.old"; fi
SH
done

for host in "${HOSTS[@]}"; do
  step "copy the snapshot to $host"
  copy_to "$host" "$BARE_SNAPSHOT" "$BARE_NODE_SNAPSHOT"
done

# The runbook's restore with the node's own name and peer URL, the full initial cluster and the token, from its
# env file; then the data dir is given to the unit's user (a root-run restore leaves it root's, and etcd runs as
# that user in this layout). etcd 3.5 and later restore with etcdutl (etcdctl's restore is deprecated there).
for host in "${HOSTS[@]}"; do
  step "restore on $host"
  as_root "$host" "$BARE_ENV_FILE" "$BARE_NODE_SNAPSHOT" "$BARE_INITIAL_CLUSTER" "$BARE_SERVICE_USER" <<'SH'
set -e
export ETCDCTL_API=3
source "$1"
tool=etcdctl; if command -v etcdutl >/dev/null; then tool=etcdutl; fi
$tool snapshot restore "$2" \
  --name="$ETCD_NAME" \
  --initial-cluster "$3" \
  --initial-advertise-peer-urls "$ETCD_INITIAL_ADVERTISE_PEER_URLS" \
  --data-dir="$ETCD_DATA_DIR" \
  --initial-cluster-token="$ETCD_INITIAL_CLUSTER_TOKEN"
chown -R "$4:$4" "$ETCD_DATA_DIR"
SH
done

# Start them all: the unit is Type=notify and a member is ready only once the cluster has quorum, so a blocking
# start of one member after another would hang on the first.
for host in "${HOSTS[@]}"; do
  step "start etcd on $host"
  on "$host" 'sudo systemctl start --no-block etcd'
done

step "wait until every member is healthy"
wait_healthy "${HOSTS[0]}"
step "done"
