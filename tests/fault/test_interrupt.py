"""disaster_recovery.yml and replace_member.yml killed after each of their tasks in turn (SIGKILL of
ansible-playbook at the task boundary: a lost controller, a Ctrl-C that gets no chance to clean up), then run
again; and a node killed (its container, as a power cut) while a switch, start or join task runs on it.

Every run is the README's command over SSH+sudo. After each re-run: the cluster healthy with every member voting,
every key written before the disaster there with its value on every member, no moved-aside data dir gone, no
staging dir, snapshot copy or unretired restore mark left."""

from __future__ import annotations

import subprocess

import faults
import lab

NODES = lab.NODES
EXTRA = "/fault-rm/"  # keys written after the snapshot, before a member is lost: a replace keeps them too


def dr_args(store, tmp_path):
    return ("-e", f"etcd_backup_dir={store}", "-e", f"etcd_report_file={tmp_path}/report.json")


def rm_args(tmp_path):
    return ("-e", "node=node3", "-e", f"etcd_report_file={tmp_path}/report.json")


def dr_disaster():
    """Two of three members lose their data for good; node1 runs on, without quorum."""
    for name in ("node2", "node3"):
        faults.sh(name, f"systemctl stop etcd.service; rm -rf {faults.DATA}")


def rm_disaster():
    """node3's etcd fails (stopped; its data dir is what replace_member moves aside)."""
    faults.sh("node3", "systemctl stop etcd.service")


def checks(keys: dict[str, str], before_aside: dict[str, list[str]], moved: dict[str, tuple[int, ...]]) -> list[str]:
    """What is wrong with the cluster after a run that should have completed; [] when nothing is. `moved`: how
    many data dirs each node may have gained aside (none by default)."""
    if not faults.wait_healthy():
        return ["not every member healthy after 90 s"]
    problems = []
    listed = faults.membership()
    if listed != [f"{n} voter" for n in NODES]:
        problems.append(f"members: {', '.join(listed)}")
    for name in NODES:
        got = {}
        for prefix in {k[: k.index("/", 1) + 1] for k in keys}:
            got.update(faults.keys_on(name, prefix))
        if got != keys:
            wrong = sum(1 for k, v in keys.items() if got.get(k) != v)
            problems.append(f"{name}: {wrong} of {len(keys)} keys missing or wrong")
        state = faults.node_state(name)
        left = [state[k] for k in ("mark", "staging") if k in state]
        if state["copy"].strip():
            left.append(f"snapshot copy: {state['copy'].strip()}")
        if left:
            problems.append(f"{name}: left {', '.join(left)}")
        if state["etcd"] != "etcd active/enabled":
            problems.append(f"{name}: {state['etcd']}")
        now = faults.aside(name)
        gone = sorted(set(before_aside[name]) - set(now))
        if gone:
            problems.append(f"{name}: moved-aside data dirs gone: {gone}")
        if len(now) - len(before_aside[name]) not in moved.get(name, (0,)):
            problems.append(f"{name}: {len(now) - len(before_aside[name])} data dirs moved aside, "
                            f"expected {' or '.join(map(str, moved.get(name, (0,))))}")
    return problems


def verdict(proc, problems) -> str:
    if proc.returncode != 0:
        problems = [f"re-run failed (rc {proc.returncode}): {lab.failure_message(proc.stdout)}"] + problems
    return "FAILED: " + "; ".join(problems) if problems else "recovered: every check passed"


def sweep(playbook, args, disaster, keys, moved, tmp_path):
    """The run once uninterrupted (its task list), then killed at each point and run again."""
    log = tmp_path / f"{playbook}.tasks"
    disaster()
    before_aside = {n: faults.aside(n) for n in NODES}
    proc = lab.playbook(playbook, lab.INVENTORY, *args, fault={"ETCD_OPS_TASK_LOG": str(log)})
    outcome = verdict(proc, checks(keys, before_aside, moved))
    assert outcome.startswith("recovered"), outcome + proc.stdout[-3000:]
    tasks = faults.read_task_log(log)
    lab.record("interrupt", f"{playbook}.yml", f"not interrupted ({len(tasks)} tasks)", "completed: every check passed",
               faults.rerun_note(proc), proc.seconds)

    points = faults.kill_points(tasks)
    failures = []
    for point in sorted(set(points.values())):
        covered = [t for t in tasks if points.get(t.number) == point]
        disaster()
        before = {n: faults.node_state(n) for n in NODES}
        before_aside = {n: faults.aside(n) for n in NODES}
        listed = faults.membership()
        killed = lab.playbook(playbook, lab.INVENTORY, *args, fault={"ETCD_OPS_INTERRUPT_AFTER": str(point)})
        if f"INTERRUPTED at task {point + 1}:" not in killed.stdout:
            outcome, left = (f"FAILED: the run was not killed at task {point + 1} (rc {killed.returncode}: "
                             f"{lab.failure_message(killed.stdout)})"), "-"
            rerun = lab.playbook(playbook, lab.INVENTORY, *args)
        else:
            left = faults.left_by(before, {n: faults.node_state(n) for n in NODES})
            now = faults.membership()
            if now != listed:
                left += f"; members: {', '.join(now) or 'none answers'} (were {', '.join(listed)})"
            rerun = lab.playbook(playbook, lab.INVENTORY, *args)
            outcome = verdict(rerun, checks(keys, before_aside, moved))
        task = tasks[point - 1]
        case = f"after task {point}: {faults.short(task.name)}"
        if len(covered) > 1:
            case += (f" (stands for tasks {covered[0].number}-{point}, from "
                     f"'{faults.short(covered[0].name)}': they changed nothing on any host)")
        note = faults.rerun_note(rerun)
        lab.record("interrupt", f"{playbook}.yml", case, outcome,
                   f"left: {left}" + (f"; re-run: {note}" if note else ""), killed.seconds + rerun.seconds)
        if not outcome.startswith("recovered"):
            failures.append(f"{case}: {outcome}\n{rerun.stdout[-2000:]}")
    assert not failures, "\n\n".join(failures)


def test_disaster_recovery_killed_after_each_task(snapshot_keys, store, tmp_path):
    sweep("disaster_recovery", dr_args(store, tmp_path), dr_disaster, snapshot_keys, {"node1": (1,)}, tmp_path)


def test_replace_member_killed_after_each_task(snapshot_keys, tmp_path):
    keys = dict(snapshot_keys, **faults.write_keys(EXTRA, 20))
    sweep("replace_member", rm_args(tmp_path), rm_disaster, keys, {"node3": (1,)}, tmp_path)


# -- a node dies while a task runs on it --------------------------------------------------------------------------
DEATHS = [  # replace_member first: its checks include the keys written after the snapshot
    ("replace_member", "node3", "Replace | Move the old data dir aside"),
    ("replace_member", "node3", "Replace | Start etcd"),
    ("disaster_recovery", "node2", "Switch | Move the old data dir aside"),
    ("disaster_recovery", "node3", "Start | Start etcd on every member"),
]


def test_a_node_killed_mid_switch_and_start_then_run_again(snapshot_keys, store, tmp_path):
    keys = dict(snapshot_keys, **faults.write_keys(EXTRA, 20))
    failures = []
    for playbook, victim, task in DEATHS:
        # A node that died may boot before its data was moved or replaced, and etcd, enabled at boot, starts: the
        # replaced member rejoins with its old data (nothing to move aside then), and a wiped DR member bootstraps a
        # fresh data dir that the re-run moves aside. Either way no data dir may be lost.
        if playbook == "disaster_recovery":
            args, disaster = dr_args(store, tmp_path), dr_disaster
            moved = {"node1": (1,), "node2": (0, 1), "node3": (0, 1)}
            want = snapshot_keys  # a recovery brings back what the snapshot holds
        else:
            args, disaster, moved = rm_args(tmp_path), rm_disaster, {"node3": (0, 1)}
            want = keys
        disaster()
        before = {n: faults.node_state(n) for n in NODES}
        before_aside = {n: faults.aside(n) for n in NODES}
        killed = lab.playbook(playbook, lab.INVENTORY, *args, fault={
            "ETCD_OPS_INTERRUPT_AT": task, "ETCD_OPS_KILL_CONTAINER": faults.CONTAINER.format(victim),
            "ETCD_OPS_KILL_DELAY": "0.3"})
        subprocess.run(["docker", "start", faults.CONTAINER.format(victim)], check=True, capture_output=True)
        faults.wait_ssh(victim)
        left = faults.left_by(before, {n: faults.node_state(n) for n in NODES})
        rerun = lab.playbook(playbook, lab.INVENTORY, *args)
        outcome = verdict(rerun, checks(want, before_aside, moved))
        first = (f"the run failed (rc {killed.returncode}): {lab.failure_message(killed.stdout)[:160]}"
                 if killed.returncode else "the run completed")
        note = faults.rerun_note(rerun)
        lab.record("node-death", f"{playbook}.yml", f"{victim} killed 0.3 s into '{task}'", outcome,
                   f"{first}; after {victim} booted, left: {left}" + (f"; re-run: {note}" if note else ""),
                   killed.seconds + rerun.seconds)
        if not outcome.startswith("recovered"):
            failures.append(f"{playbook} {victim} {task}: {outcome}\n{rerun.stdout[-2000:]}")
    assert not failures, "\n\n".join(failures)
