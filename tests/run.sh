#!/usr/bin/env bash
# The test command (`make test`): sets everything up on a fresh Debian 12 machine (tests/lab/setup.sh),
# then starts the molecule scenarios on etcd 3.4 (bookworm) and 3.5 (trixie) in two labs at once in the background
# (with `full`, the fault suite among them) and, beside them, runs in order: unit tests, ansible-test sanity,
# ansible-lint (production profile), yamllint, ruff, antsibull-changelog lint, the package tests (tests/package: the
# tarball installed with its declared dependencies, its docs, an execution environment's build context); then it
# waits for the labs, whose rows (refusals, interruptions, edges) become
# docs/reliability.md; the default scenario also builds the collection tarball, installs it and runs its playbook
# by FQCN.
# Every step runs even when an earlier one failed; the run ends with a table of where the time went (each
# step's seconds, molecule's phases, the slowest test: tests/timings.py, tests/output/timings.md), then
# one line "N passed, N failed" (pytest tests counted one by one, every other check as one), and
# exits non-zero on any failure.
#
# usage: tests/run.sh [step...]   steps: unit sanity lint changelog package molecule cores faults full (default: the first six
#        and cores, the core set of scenarios; `full` alone: everything, every scenario and the fault suite on both
#        versions; `faults` alone: only the fault suite, on etcd 3.4 and 3.5 at once, and the report; `cores`:
#        ansible-test sanity on the other ansible-cores, 2.16, 2.17, 2.18, 2.20 and 2.21, beside the labs: every test
#        over the whole collection but pylint, which checks the Python these cores run there (plugins/, the lab's
#        callback plugin); with `full`, pylint checks the whole collection on them too)
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
top=$PWD
out=$top/tests/output
steps=("$@")
[ ${#steps[@]} -gt 0 ] || steps=(unit sanity lint changelog package molecule cores)
[ "${steps[*]}" != full ] || steps=(unit sanity lint changelog package molecule cores full)
wants() { local s; for s in "${steps[@]}"; do [ "$s" = "$1" ] && return 0; done; return 1; }

source tests/lab/venv.sh  # core_place
setup_started=$(date +%s)
bash tests/lab/setup.sh || { echo "setup failed"; echo "0 passed, 1 failed"; exit 1; }
export PATH=$top/.venv/bin:$PATH
rm -rf "$out"; mkdir -p "$out/logs" "$out/junit"
# Each step's seconds and result, for the table at the end (tests/timings.py).
step_done() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$out/steps.tsv"; }
step_done setup $(( $(date +%s) - setup_started )) PASSED
# The other ansible-cores (issue #27): some scenarios run on the oldest and the newest tested, 2.16 (host) and 2.21
# (the controller container; the lists below), and `cores` (in the default steps) runs ansible-test sanity of 2.16,
# 2.17, 2.18 (host), 2.20 and 2.21 (container). They are set up in the background (tests/lab/cores.sh: venvs, wheelhouse,
# container) from the start; nothing waits for them but the runs and the sanity that use them (cores_wait), so a slow
# set-up on a cold machine delays no lab.
extra_cores=(2.16 2.21) sanity_cores_list=()
if wants cores; then
  extra_cores=(2.16 2.17 2.18 2.20 2.21) sanity_cores_list=("${extra_cores[@]}")
fi
cores_result=$out/cores/setup
mkdir -p "$out/cores"
if wants molecule || [ ${#sanity_cores_list[@]} -gt 0 ]; then
  (t0=$(date +%s); bash tests/lab/cores.sh "${extra_cores[@]}" >"$out/logs/cores.log" 2>&1
   rc=$?; printf '%s\t%s\n' "$rc" "$(( $(date +%s) - t0 ))" >"$cores_result.tmp"; mv "$cores_result.tmp" "$cores_result") &
else
  cores_result=
fi
# cores_wait: wait (from any shell: the labs run in subshells) until the set-up of the other cores ended; fails if it
# failed.
cores_wait() {
  [ -n "$cores_result" ] || return 1
  until [ -f "$cores_result" ]; do sleep 2; done
  [ "$(cut -f1 "$cores_result")" = 0 ]
}
# cores_done: the set-up's step in the table, once it ended.
cores_done() {
  [ -n "$cores_result" ] || return 0
  cores_wait; local rc secs
  IFS=$'\t' read -r rc secs <"$cores_result"
  if [ "$rc" = 0 ]; then step_done cores "$secs" PASSED
  else
    echo "    FAILED cores (${secs}s), last lines of $out/logs/cores.log:"
    grep -v 'is ignored' "$out/logs/cores.log" | tail -20 | sed 's/^/      /'
    step_done cores "$secs" FAILED; failed=$((failed + 1)); failures+=(cores)
  fi
}

passed=0 failed=0 failures=() lab_pids=()
started=$(date +%s)
bold() { printf '\033[1m%s\033[0m\n' "$*"; }

# count_junit FILE: add the tests of a pytest junit file to the totals.
count_junit() {
  local counts
  counts=$(python3 - "$1" <<'PY'
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
suites = [root] if root.tag == "testsuite" else list(root)
t = sum(int(s.get("tests", 0)) for s in suites)
f = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
sk = sum(int(s.get("skipped", 0)) for s in suites)
print(t - f - sk, f)
PY
) || return 1
  passed=$((passed + ${counts% *})); failed=$((failed + ${counts#* }))
}

# stamp: every line of standard input, prefixed with the epoch second it came at (tests/timings.py reads
# molecule's phases from them).
stamp() { local line; while IFS= read -r line || [ -n "$line" ]; do printf '%(%s)T %s\n' -1 "$line"; done; }

# check NAME COMMAND...: one check; its output goes to tests/output/logs/NAME.log, each line time-stamped.
check() {
  local name=$1; shift
  local log="$out/logs/$name.log" t0 rc secs
  t0=$(date +%s)
  bold "==> $name"
  "$@" 2>&1 | stamp >"$log"
  rc=${PIPESTATUS[0]} secs=$(( $(date +%s) - t0 ))
  if [ "$rc" -eq 0 ]; then
    echo "    PASSED $name (${secs}s)"; passed=$((passed + 1)); step_done "$name" "$secs" PASSED
  else
    echo "    FAILED $name (${secs}s), last lines of $log:"
    sed -E 's/^[0-9]+ //; s/\x1b\[[0-9;]*m//g' "$log" | grep -v '^\s*│\?\s*$' | tail -40 | sed 's/^/      /'
    failed=$((failed + 1)); failures+=("$name"); step_done "$name" "$secs" FAILED
  fi
}

# A copy of the collection at ansible_collections/etcd_ops/etcd, for the tools that need that layout.
# It must lie outside this git work tree: ansible-test skips files that git ignores (tests/output is).
colroot=$(mktemp -d /tmp/etcd-ops-collection.XXXXXX)
trap 'rm -rf "$colroot"' EXIT
stage_collection() {
  rm -rf "$colroot"; mkdir -p "$colroot/ansible_collections/etcd_ops/etcd"
  git ls-files -co --exclude-standard | grep -v '^\.collections/' | tar -cf - -T - | tar -xf - -C "$colroot/ansible_collections/etcd_ops/etcd"
}

# labs_start: the scenario runs of lab90 and lab91 (arrays of scenario:suite), the two labs at once, each its runs
# in turn, in the background: they start right after the set-up, beside the unit tests, sanity, the linters and the
# package tests (about 5 minutes, one core's work), and labs_finish counts them at the end.
# Two labs run at once: one scenario keeps this machine's two cores about 75% busy (playbook runs, the members'
# Python), two keep them full. Lab 90 is the README's (172.29.90.0/24, etcd-ops-lab-node1...); lab 91 has its own
# network, containers and inventories (ETCD_LAB_NET, ETCD_LAB_PREFIX, ETCD_LAB_ROOT: tests/lab/pylib/lab.py).
# run_name RUN: a run's step name, molecule-SCENARIO-SUITE (with -core-VERSION when it runs on another ansible-core)
run_name() { local r=${1/:/-}; echo "molecule-${r/@/-core-}"; }

labs_start() {
  mkdir -p "$out/lab-91/tests/lab"
  for inv in inventory.yml inventory5.yml; do
    sed 's/172\.29\.90\./172.29.91./' "tests/lab/$inv" >"$out/lab-91/tests/lab/$inv"
  done
  # lab_runs LAB RUN...: one lab's scenario runs, in turn. Each run gets a state directory of its own, empty:
  # molecule's default one (~/.ansible/tmp) outlives the containers, and a state that says "created" skips the
  # create step.
  # A run is SCENARIO:SUITE, or SCENARIO:SUITE@CORE to run the collection's playbooks on another ansible-core
  # (ETCD_LAB_CORE: tests/lab/bin/core, first in PATH; molecule and the tests stay on the test venv's).
  lab_runs() {
    local lab=$1 run name suite core; shift
    local labenv=() coreenv=()
    [ "$lab" = 90 ] || labenv=("ETCD_LAB_NET=$lab" "ETCD_LAB_PREFIX=etcd-ops-lab-$lab" "ETCD_LAB_ROOT=$out/lab-$lab")
    # `full`: every test on every suite (lab.once: the test command runs some on one suite only)
    [ "$every_suite" = 0 ] || labenv+=("ETCD_LAB_EVERY_SUITE=1")
    for run in "$@"; do
      name=$(run_name "$run") suite=${run#*:} core=
      case "$suite" in *@*) core=${suite#*@} suite=${suite%@*} ;; esac
      coreenv=()
      if [ -n "$core" ]; then
        coreenv=("ETCD_LAB_CORE=$core" "ETCD_LAB_HOST_BIN=$top/.venv/bin" "PATH=$top/tests/lab/bin:$PATH")
        if ! cores_wait; then
          # shellcheck disable=SC2016 # $1 is the inner shell's
          check "$name" bash -c 'echo "not run: the set-up of the other ansible-cores failed: $1"; exit 1' _ \
            "$out/logs/cores.log"
          continue
        fi
      fi
      check "$name" env "${labenv[@]}" "${coreenv[@]}" "ETCD_LAB_SUITE=$suite" "ETCD_LAB_STEP=$name" \
        "PYTEST_ADDOPTS=--junitxml=$out/junit/$name.xml" \
        "MOLECULE_EPHEMERAL_DIRECTORY=$out/molecule/$name" molecule test -s "${run%%:*}"
    done
  }
  labs_started=$(date +%s)
  # how busy the two cores are while the labs run (the idle share, printed by labs_finish)
  vmstat -n 10 >"$out/logs/vmstat.log" 2>/dev/null & vmstat_pid=$!
  # each lab's steps go to a file of its own (check's counters are lost in a background shell): counted by
  # labs_finish
  lab_pids=()
  for lab in 90 91; do
    declare -n runs=lab$lab
    (step_done() { printf '%s\t%s\t%s\tlab %s\n' "$1" "$2" "$3" "$lab" >>"$out/steps.tsv.$lab"; }
     lab_runs "$lab" "${runs[@]}") &
    lab_pids+=("$!")
    unset -n runs
  done
}

# labs_finish: wait for the labs labs_start started; their runs counted, then docs/reliability.md.
labs_finish() {
  local pid run name
  for pid in "${lab_pids[@]}"; do wait "$pid"; done
  labs_secs=$(( $(date +%s) - labs_started )) labs_result=PASSED
  kill "$vmstat_pid" 2>/dev/null
  awk '$15 ~ /^[0-9]+$/ && NR > 3 {n++; id += $15; wa += $16} END {if (n) printf "    CPU while the labs ran: %d%% idle, %d%% waiting on I/O (vmstat, %d samples)\n", id / n, wa / n, n}' \
    "$out/logs/vmstat.log"
  cat "$out"/steps.tsv.9[01] >>"$out/steps.tsv" 2>/dev/null
  for run in "${lab90[@]}" "${lab91[@]}"; do
    name=$(run_name "$run")
    if grep -q "^$name"$'\t[0-9]*\tPASSED' "$out/steps.tsv"; then passed=$((passed + 1))
    else failed=$((failed + 1)) failures+=("$name") labs_result=FAILED; fi
    [ -f "$out/junit/$name.xml" ] && count_junit "$out/junit/$name.xml"
  done
  step_done "two labs at once (wall clock)" "$labs_secs" "$labs_result"
  echo "    the two labs took ${labs_secs}s"
  # docs/reliability.md: the table of every row the scenarios recorded (interruptions, node deaths, bad input)
  check reliability-report python3 tests/fault/report.py
  sed -n '/rows passed/p' docs/reliability.md | sed 's/^/    /'
}

every_suite=0
wants full && every_suite=1
if wants molecule; then
  # The core set, within 45 minutes on this machine: each operation on etcd 3.4 (bookworm) and 3.5 (trixie) where
  # they differ (recovery; deploy on bare hosts, 3.5's in the other scenarios' prepare), the rest on 3.5 (Python
  # 3.13 on the members; five members and WAL dirs), and the runbook's hand-made TLS cluster (a CA without keyUsage), and deploy's TLS and etcd auth on 3.5
  # (every operation on them, and no key or password in any play's --diff or -vvv output: issue #24), and the
  # restore drill on both versions (issue #25).
  # `tests/run.sh full` (make test-full) adds the rest:
  # the modules and s3 scenarios, backup, replace_member, tls and runbook on 3.4, deploy_refusals, and the
  # fault suite on both versions (docs/testing.md). Any of them runs alone (after `make lab-down` if a lab runs):
  # ETCD_LAB_SUITE=bookworm molecule test -s NAME. The two lists take about as long each.
  # Runs on the oldest and the newest ansible-core tested (issue #27): deploy and disaster_recovery on 3.4 on 2.16
  # (Python 3.11), tls (deploy with TLS on bare hosts, every operation on TLS and with auth) on 3.5 on 2.21 (the
  # controller container, Python 3.13); every other scenario on the test venv's 2.19. `full` adds deploy on 3.5 on
  # 2.21 and tls on 3.4 on 2.16. None comes first in its lab: their set-up (tests/lab/cores.sh) ends in the
  # meantime. disaster_recovery_5 runs on 3.5 only here (its WAL dirs restored by etcdutl), and on 3.4 in `full`.
  # A test that takes no path the versions take differently (a refusal decided on the controller, a second run,
  # the timer, the bucket, the kube-apiservers) is marked lab.once(SUITE): it runs on that suite only here, and on
  # both in `full`; the suites are chosen so that the two labs take about as long.
  lab90=(disaster_recovery:trixie backup:trixie tls:trixie@2.21 runbook:trixie)
  lab91=(replace_member:trixie disaster_recovery:bookworm@2.16 disaster_recovery_5:trixie verify_backup:bookworm
         verify_backup:trixie default:bookworm@2.16)
  if wants full; then
    # s3 stays in lab 90: its S3 server listens on the controller's loopback
    lab90+=(modules:bookworm s3:trixie backup:bookworm deploy_refusals:bookworm disaster_recovery_5:bookworm
            faults:bookworm)
    lab91+=(modules:trixie replace_member:bookworm tls:bookworm@2.16 runbook:bookworm default:trixie@2.21
            faults:trixie)
  fi
  labs_start
fi

if wants faults && ! wants molecule; then
  # the fault suite alone, on etcd 3.4 and 3.5 at once (issue #24, edge 8: 3.4.23 restores with etcdctl, without
  # the revision bump)
  lab90=(faults:bookworm) lab91=(faults:trixie)
  labs_start
fi

if wants unit || wants sanity || [ ${#sanity_cores_list[@]} -gt 0 ]; then
  stage_collection
  # ansible-test downloads get-pip.py from a host this machine cannot reach; give it a stand-in.
  mkdir -p "$HOME/.ansible/test/cache"
  # (the pips that ansible-test pins: 23.1.2 in 2.16 and 2.17, 24.2 in 2.18 and 2.19, 25.2 in 2.20 and 2.21)
  for v in 23_1_2 24_2 25_2; do
    cp tests/sanity/get_pip.py "$HOME/.ansible/test/cache/get_pip_$v.py"
  done
fi

# pytest_step NAME T0 RC LOG JUNIT...: the end of a step run by pytest: its tests counted one by one from its junit
# files, and its line in the table (the step fails when it failed or counted nothing; the log's tail then).
pytest_step() {
  local name=$1 t0=$2 rc=$3 log=$4 junit counted=0; shift 4
  for junit in "$@"; do
    [ -f "$junit" ] && count_junit "$junit" && counted=1
  done
  if [ "$rc" -ne 0 ] || [ $counted -eq 0 ]; then
    failures+=("$name"); [ $counted -eq 1 ] || failed=$((failed + 1))
    tail -40 "$log" | sed 's/^/      /'
    step_done "$name" $(( $(date +%s) - t0 )) FAILED
  else
    step_done "$name" $(( $(date +%s) - t0 )) PASSED
  fi
}

if wants unit; then
  # ansible-test units: pytest in a venv of its own, on the collection as installed; tests counted one by one.
  bold "==> unit"
  coldir=$colroot/ansible_collections/etcd_ops/etcd
  t0=$(date +%s)
  (cd "$coldir" && ansible-test units --venv --python 3.11 --color no) >"$out/logs/unit.log" 2>&1
  rc=$?
  grep -E '^=+ .* in [0-9.]+s' "$out/logs/unit.log" | sed 's/^/    /'
  # the units' junit files beside the scenarios' (for the slowest unit test in the table)
  n=0; for junit in "$coldir"/tests/output/junit/*.xml; do
    [ -f "$junit" ] && n=$((n + 1)) && cp "$junit" "$out/junit/unit.$n.xml"
  done
  pytest_step unit "$t0" "$rc" "$out/logs/unit.log" "$out"/junit/unit.*.xml
fi

# ansible_test_sanity COLLECTION [CORE [ARG...]]: ansible-test sanity of the collection copy at COLLECTION (each run
# writes its tests/output there), with the test venv's ansible-core, or with CORE's: 2.16 to 2.18 in their venvs on
# the host, 2.20 and 2.21 in the controller container (Python 3.13, offline: its pip reads the wheelhouse of
# tests/lab/cores.sh); ARGs go to ansible-test (the tests, the targets). It fails when it skipped every target.
ansible_test_sanity() {
  local coll=$1 core=${2:-} log rc place=
  shift; [ $# -eq 0 ] || shift
  if [ -n "$core" ]; then
    place=$(core_place "$core")
    [ -n "$place" ] || { echo "no such ansible-core in the lab: $core (tests/cores/where.txt)"; return 1; }
  fi
  log=$(mktemp)
  case $place in
    "") (cd "$coll" && ansible-test sanity --local --requirements --python 3.11 --color no "$@") ;;
    container) docker exec -w "$coll" -e PATH="/opt/core-$core/bin:/usr/bin:/bin" etcd-ops-lab-controller \
            ansible-test sanity --local --requirements --python 3.13 --color no "$@" ;;
    host) (cd "$coll" && PATH="$top/.cores/$core/bin:$PATH" ansible-test sanity --local --requirements --python 3.11 \
          --color no "$@") ;;
  esac 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  if grep -q 'All targets skipped' "$log"; then rc=1; fi
  rm -f "$log"
  return "$rc"
}

if wants sanity; then
  check sanity ansible_test_sanity "$colroot/ansible_collections/etcd_ops/etcd"
fi

# sanity_cores: ansible-test sanity of the other ansible-cores (sanity_cores_list), each on its own copy of the
# collection, in turn; each one's result in a file, counted by sanity_cores_done (it may run in the background, beside
# the labs). Every test but pylint checks the whole collection. pylint checks the Python these cores run: the shipped
# Python (plugins/) and the lab's callback plugin (the runs that kill a playbook, on 2.16 among others); the rest of
# the tests' Python only with `full`: it runs on the test venv's ansible-core alone, whose sanity pylints it all, and
# it is about two thirds of pylint's time (about 40 of 60 s a core).
sanity_cores() {
  local v copy coll rc t0
  for v in "${sanity_cores_list[@]}"; do
    t0=$(date +%s)
    if cores_wait; then
      copy=$(mktemp -d "/tmp/etcd-ops-sanity-$v.XXXXXX")
      cp -a "$colroot/ansible_collections" "$copy/"
      coll=$copy/ansible_collections/etcd_ops/etcd
      if wants full; then
        ansible_test_sanity "$coll" "$v" >"$out/logs/sanity-$v.log" 2>&1
        rc=$?
      else
        { ansible_test_sanity "$coll" "$v" --skip-test pylint && ansible_test_sanity "$coll" "$v" --test pylint plugins/ \
            tests/lab/callback_plugins/; } >"$out/logs/sanity-$v.log" 2>&1
        rc=$?
      fi
      rm -rf "$copy"
    else
      echo "the set-up of the other ansible-cores failed (tests/lab/cores.sh): see $out/logs/cores.log" \
        >"$out/logs/sanity-$v.log"
      rc=1
    fi
    printf '%s\t%s\n' "$rc" "$(( $(date +%s) - t0 ))" >"$out/cores/sanity-$v"
  done
}
sanity_cores_done() {
  local v rc secs
  for v in "${sanity_cores_list[@]}"; do
    IFS=$'\t' read -r rc secs <"$out/cores/sanity-$v" 2>/dev/null || { rc=1 secs=0; }
    if [ "$rc" = 0 ]; then
      echo "    PASSED sanity-$v (${secs}s)"; passed=$((passed + 1)); step_done "sanity-$v" "$secs" PASSED
    else
      echo "    FAILED sanity-$v (${secs}s), last lines of $out/logs/sanity-$v.log:"
      grep -E '^(ERROR|FATAL)|cores.sh' "$out/logs/sanity-$v.log" | tail -20 | sed 's/^/      /'
      failed=$((failed + 1)); failures+=("sanity-$v"); step_done "sanity-$v" "$secs" FAILED
    fi
  done
}

# The sanity of the other ansible-cores: beside the labs (or alone, without them).
sanity_pid=
if [ ${#sanity_cores_list[@]} -gt 0 ]; then
  if wants molecule; then sanity_cores & sanity_pid=$!
  else sanity_cores; sanity_cores_done; fi
fi

if wants lint; then
  check ansible-lint ansible-lint --profile production --offline
  check yamllint yamllint --strict .
  check ruff ruff check plugins tests extensions bench
fi

if wants changelog; then
  check changelog antsibull-changelog lint
fi

if wants package; then
  # The collection as a user gets it (tests/package): the tarball installed offline into an empty path with the
  # dependencies its metadata declares, ansible-doc of every module and role entry point, the antsibull-docs site,
  # the EE's build context (ansible-builder create). Tests counted one by one; run outside the checkout.
  bold "==> package"
  t0=$(date +%s)
  (cd /tmp && python -m pytest -q -p no:cacheprovider --junitxml="$out/junit/package.xml" "$top/tests/package") \
    >"$out/logs/package.log" 2>&1
  rc=$?
  tail -1 "$out/logs/package.log" | sed 's/^/    /'
  pytest_step package "$t0" "$rc" "$out/logs/package.log" "$out/junit/package.xml"
fi

# the labs, started after the set-up
if [ ${#lab_pids[@]} -gt 0 ]; then
  bold "==> the labs (started after the set-up)"
  labs_finish
fi

if [ -n "$sanity_pid" ]; then
  bold "==> sanity of the other ansible-cores (${sanity_cores_list[*]})"
  wait "$sanity_pid"; sanity_cores_done
fi
# the set-up of the other cores in the table (failed if it failed: what used it failed with it)
cores_done

echo
bold "Where the time went (tests/output/timings.md; seconds):"
python3 tests/timings.py "$out" || true
bold "test command finished in $(( $(date +%s) - started ))s (after set-up); logs in tests/output/logs"
[ ${#failures[@]} -eq 0 ] || echo "failed: ${failures[*]}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ ${#failures[@]} -eq 0 ]
