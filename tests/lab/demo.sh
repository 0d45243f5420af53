#!/usr/bin/env bash
# The demo (`make demo`): sets up what is missing (tests/lab/setup.sh), starts a 3-node lab of bare
# Debian 12 hosts under systemd, deploys etcd on it with playbooks/deploy.yml over SSH as the sudo
# user ops (exactly the README's command), writes keys, and shows the members and their health as an
# operator on a node sees them, backs the cluster up with playbooks/backup.yml, then loses two members'
# data (a disaster: no quorum) and rebuilds the cluster from the newest snapshot with
# playbooks/disaster_recovery.yml. The lab keeps running; `make lab-down` removes it.
set -euo pipefail
cd "$(dirname "$0")/../.."
suite=${ETCD_LAB_SUITE:-bookworm}
export ETCD_LAB_SUITE=$suite
bash tests/lab/setup.sh "$suite"
export PATH=$PWD/.venv/bin:$PATH
step() { printf '\n\033[1;34m==> %s\033[0m\n' "$*"; }
run() { printf '\033[2m$ %s\033[0m\n' "$*"; "$@"; }
key=$HOME/.cache/etcd-ops-lab/id_ed25519
on() { local host=$1; shift; ssh -i "$key" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR "ops@$host" "$@"; }

step "Starting the lab: 3 bare Debian hosts ($suite) under systemd, reachable over SSH as ops (sudo)"
molecule destroy -s default >/dev/null 2>&1 || true
molecule create -s default >/tmp/etcd-ops-demo-create.log 2>&1 || { tail -40 /tmp/etcd-ops-demo-create.log; exit 1; }
molecule prepare -s default >/tmp/etcd-ops-demo-prepare.log 2>&1 || { tail -40 /tmp/etcd-ops-demo-prepare.log; exit 1; }
docker ps --filter name='^etcd-ops-lab-' --format '  {{.Names}}  {{.Status}}'

step "Deploying etcd (the README's command)"
run ansible-playbook -i tests/lab/inventory.yml playbooks/deploy.yml

step "Writing keys on node1 (as an operator on the node does)"
for i in 1 2 3; do on 172.29.90.11 etcdctl put "/demo/key$i" "value-$i"; done
on 172.29.90.11 etcdctl get --prefix /demo/

step "Reading them back from node3"
on 172.29.90.13 etcdctl get --prefix /demo/ --print-value-only

step "Members and their health"
on 172.29.90.11 etcdctl member list -w table
on 172.29.90.11 etcdctl endpoint health --cluster -w table
on 172.29.90.11 etcdctl endpoint status --cluster -w table

step "Backing up (the README's command): a verified snapshot in tests/lab/etcd-backups/"
run ansible-playbook -i tests/lab/inventory.yml playbooks/backup.yml
ls -l tests/lab/etcd-backups/
(cd tests/lab/etcd-backups && sha256sum -c ./*.sha256)

step "A disaster: node2 and node3 lose their data; node1 alone has no quorum"
for ip in 172.29.90.12 172.29.90.13; do on $ip "sudo systemctl stop etcd && sudo rm -rf /data/etcd.data"; done
on 172.29.90.11 "ETCDCTL_COMMAND_TIMEOUT=3s etcdctl put /demo/after-the-disaster x" || true

step "Rebuilding the cluster from the newest snapshot (the README's command)"
run ansible-playbook -i tests/lab/inventory.yml playbooks/disaster_recovery.yml

step "The keys are back, on every member"
for ip in 172.29.90.11 172.29.90.12 172.29.90.13; do on $ip etcdctl get --prefix /demo/ --print-value-only | xargs echo "  $ip:"; done
on 172.29.90.11 etcdctl endpoint status --cluster -w table

step "Done. The lab keeps running: ssh -i $key ops@172.29.90.11 ; remove it with: make lab-down"
