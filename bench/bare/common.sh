# shellcheck shell=bash
# Sourced by the bare scripts of bench/bare: how they reach the nodes. Exactly as the lab inventory
# (tests/lab/inventory.yml) connects Ansible: SSH as its user with its key and ssh_common_args, plus the
# connection sharing that ansible.cfg gives the playbooks (ssh_args), with a control path of its own.
# bench/run.py sets every BARE_* variable; it starts each run without a shared connection, as it does the
# playbooks.
: "${BARE_USER:?}" "${BARE_KEY:?}" "${BARE_SSH_ARGS:?}" "${BARE_HOSTS:?}" "${BARE_ENDPOINTS:?}"
BARE_ENV_FILE=${BARE_ENV_FILE:-/data/etcd.env}  # the runbook's env file
BARE_TIMEOUT=${BARE_TIMEOUT:-900}               # the longest wait for health, in seconds

read -r -a SSH_OPTS <<<"$BARE_SSH_ARGS"
SSH_OPTS=(-i "$BARE_KEY" "${SSH_OPTS[@]}")
# HOSTS: the member addresses in inventory order, for the scripts that source this file
# shellcheck disable=SC2034
read -r -a HOSTS <<<"$BARE_HOSTS"

# step TEXT: a line with the seconds since the start, so the log shows where the time went.
# (EPOCHREALTIME without its decimal point, whatever the locale: microseconds)
started=${EPOCHREALTIME//[!0-9]/}
step() {
  local us=$(( ${EPOCHREALTIME//[!0-9]/} - started ))
  printf '[bare %4d.%ds] %s\n' $(( us / 1000000 )) $(( us / 100000 % 10 )) "$*"
}

# on HOST COMMAND...: a command on a node, as the SSH user (no stdin).
on() {
  local host=$1; shift
  # the command runs on the node as the caller wrote it
  # shellcheck disable=SC2029
  ssh -n "${SSH_OPTS[@]}" "$BARE_USER@$host" "$*"
}

# as_root HOST [ARG...]: the script on stdin, run with `sudo bash` on a node, the ARGs as $1, $2...
as_root() {
  local host=$1; shift
  local args=""
  [ $# -eq 0 ] || args=$(printf '%q ' "$@")
  # the arguments, quoted here for the node's shell
  # shellcheck disable=SC2029
  ssh "${SSH_OPTS[@]}" "$BARE_USER@$host" "sudo bash -s -- $args"
}

# copy_to HOST FILE DEST / copy_from HOST FILE DEST: scp, with the same options.
copy_to() { scp -q "${SSH_OPTS[@]}" "$2" "$BARE_USER@$1:$3"; }
copy_from() { scp -q "${SSH_OPTS[@]}" "$BARE_USER@$1:$2" "$3"; }

# wait_healthy HOST: poll `etcdctl endpoint health` on every member's client URL from HOST, once a second,
# until all answer healthy (a script's wait: no fixed sleep before the first try).
wait_healthy() {
  local deadline
  deadline=$(( $(date +%s) + BARE_TIMEOUT ))
  until on "$1" "etcdctl --endpoints=$BARE_ENDPOINTS --dial-timeout=2s --command-timeout=2s endpoint health" >/dev/null 2>&1; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
      echo "the cluster did not become healthy within ${BARE_TIMEOUT}s" >&2
      on "$1" "etcdctl --endpoints=$BARE_ENDPOINTS --dial-timeout=2s --command-timeout=2s endpoint health" >&2 || true
      return 1
    fi
    sleep 1
  done
}
