#!/usr/bin/env bash
# The runbook's section 2 as a person would script it, for bench/run.py to time against replace_member.yml
# -e node=NAME, with no other checks: find the failed member's ID in `member list`, `member remove` it, stop the
# node and clear its data dir, `member add` it again, write ETCD_INITIAL_CLUSTER_STATE=existing and the initial
# cluster that `member add` printed into its env file, start it, and poll until the cluster is healthy.
#   BARE_HELPER           a healthy member's address, for the member commands
#   BARE_TARGET           the failed node's address
#   BARE_TARGET_NAME      its member name (ETCD_NAME)
#   BARE_TARGET_PEER_URL  its peer URL (ETCD_INITIAL_ADVERTISE_PEER_URLS)
#   BARE_SERVICE_USER     the user the etcd unit runs as (owner of the new, empty data dir)
set -euo pipefail
# shellcheck source=bench/bare/common.sh
. "$(dirname "$0")/common.sh"
: "${BARE_HELPER:?}" "${BARE_TARGET:?}" "${BARE_TARGET_NAME:?}" "${BARE_TARGET_PEER_URL:?}" "${BARE_SERVICE_USER:?}"
endpoint=http://127.0.0.1:2379  # the helper's own client URL, as the runbook's ENDPOINT

step "member list on $BARE_HELPER"
id=$(on "$BARE_HELPER" "etcdctl --endpoints $endpoint member list" | awk -F', ' -v name="$BARE_TARGET_NAME" '$3 == name { print $1 }')
[ -n "$id" ] || { echo "no member named $BARE_TARGET_NAME in the member list" >&2; exit 1; }

step "member remove $id"
on "$BARE_HELPER" "etcdctl --endpoints $endpoint member remove $id"

# The node must be stopped and its data dir cleared. The runbook's `rm -rf /data/etcd.data`; the empty dir is
# made again for the unit's user, who cannot create it in /data in this layout.
step "stop etcd and clear the data dir on $BARE_TARGET"
as_root "$BARE_TARGET" "$BARE_ENV_FILE" "$BARE_SERVICE_USER" <<'SH'
set -e
source "$1"
systemctl stop etcd
rm -rf "$ETCD_DATA_DIR"
install -d -m 0700 -o "$2" -g "$2" "$ETCD_DATA_DIR"
SH

step "member add $BARE_TARGET_NAME"
added=$(on "$BARE_HELPER" "etcdctl --endpoints=$endpoint member add $BARE_TARGET_NAME --peer-urls=$BARE_TARGET_PEER_URL")
echo "$added"
initial_cluster=$(sed -n 's/^ETCD_INITIAL_CLUSTER="\(.*\)"$/\1/p' <<<"$added")
[ -n "$initial_cluster" ] || { echo "member add printed no ETCD_INITIAL_CLUSTER" >&2; exit 1; }

step "set ETCD_INITIAL_CLUSTER_STATE=existing and the initial cluster in $BARE_ENV_FILE on $BARE_TARGET"
as_root "$BARE_TARGET" "$BARE_ENV_FILE" "$initial_cluster" <<'SH'
sed -i -e "s|^ETCD_INITIAL_CLUSTER=.*|ETCD_INITIAL_CLUSTER=$2|" \
       -e "s|^ETCD_INITIAL_CLUSTER_STATE=.*|ETCD_INITIAL_CLUSTER_STATE=existing|" "$1"
SH

# A member joining a cluster that has quorum gets ready on its own: a blocking start is fine here.
step "start etcd on $BARE_TARGET"
on "$BARE_TARGET" 'sudo systemctl start etcd'

step "wait until every member is healthy"
wait_healthy "$BARE_HELPER"
step "done"
