#!/usr/bin/env bash
# Sets up everything the demo and the tests need on a fresh Debian 12 machine, as root, and is quick
# when it is all there already:
#   - the Docker engine (Debian's docker.io; dockerd started when none answers)
#   - debootstrap, zstd, age, and the lab node images (tests/lab/build-image.sh, rebuilt only when their recipe changes)
#   - a venv in .venv with the pinned tools of tests/requirements.txt
#   - the lab's SSH key in ~/.cache/etcd-ops-lab
#   - no stale lab containers or network from an earlier run
# usage: tests/lab/setup.sh [suite...]     (default: bookworm trixie)
set -euo pipefail
cd "$(dirname "$0")/../.."
suites=("$@")
[ ${#suites[@]} -gt 0 ] || suites=(bookworm trixie)
log() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }

apt_install() {
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  [ "$(id -u)" = 0 ] || { echo "need root to install ${missing[*]} (apt-get)" >&2; exit 1; }
  log "installing ${missing[*]} (apt-get)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive NEEDRESTART_MODE=l apt-get install -y -qq --no-install-recommends "${missing[@]}" >/tmp/etcd-ops-lab-apt.log 2>&1 || { tail -20 /tmp/etcd-ops-lab-apt.log >&2; exit 1; }
}

# 1. Docker engine.
if ! docker info >/dev/null 2>&1; then
  command -v dockerd >/dev/null 2>&1 || apt_install docker.io
  if ! docker info >/dev/null 2>&1; then
    log "starting dockerd"
    if [ -d /run/systemd/system ]; then
      systemctl start docker
    else
      nohup dockerd >/var/log/etcd-ops-lab-dockerd.log 2>&1 &
    fi
    for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
    docker info >/dev/null 2>&1 || { echo "dockerd did not start; see /var/log/etcd-ops-lab-dockerd.log" >&2; exit 1; }
  fi
fi
log "docker engine $(docker version -f '{{.Server.Version}}')"

# 2. Tools the lab needs on the host (zstd and age: the controller's tools for the bucket's encoded copies;
#    openssl: the runbook scenario makes its CA the runbook's way).
apt_install debootstrap openssh-client zstd age openssl

# 3. The venv (tests/lab/venv.sh).
python3 -c 'import ensurepip, venv' 2>/dev/null || apt_install python3-venv
source tests/lab/venv.sh
venv_from tests/requirements.txt .venv /tmp/etcd-ops-lab-pip.log
log "venv: $(.venv/bin/ansible --version | sed -n 1p)"

# 4. The lab's SSH key.
key=$HOME/.cache/etcd-ops-lab/id_ed25519
if [ ! -f "$key" ]; then
  mkdir -p "$(dirname "$key")"
  ssh-keygen -q -t ed25519 -N '' -C etcd-ops-lab -f "$key"
fi
chmod 0644 "$key.pub"

# 5. Stale lab containers and networks from an earlier run (the test command's second lab is etcd-ops-lab-91).
mapfile -t stale < <(docker ps -aq --filter name='^etcd-ops-lab-')
[ ${#stale[@]} -eq 0 ] || { log "removing stale lab containers"; docker rm -f "${stale[@]}" >/dev/null; }
docker network ls -q --filter name='^etcd-ops-lab' | xargs -r docker network rm >/dev/null 2>&1 || true

# 6. The node images, built in parallel.
pids=()
for suite in "${suites[@]}"; do
  bash tests/lab/build-image.sh "$suite" > "/tmp/etcd-ops-lab-build-$suite.log" 2>&1 &
  pids+=("$!")
done
rc=0
for i in "${!pids[@]}"; do
  if wait "${pids[$i]}"; then
    log "$(tail -1 "/tmp/etcd-ops-lab-build-${suites[$i]}.log")"
  else
    rc=1; echo "image ${suites[$i]} failed:" >&2; tail -30 "/tmp/etcd-ops-lab-build-${suites[$i]}.log" >&2
  fi
done
exit $rc
