"""Writes docs/reliability.md from the rows the test command's runs recorded in tests/output/reliability/*.jsonl
(tests/lab/pylib/lab.py: record, record_refusal): the fault suite's interruptions and node deaths, and the
bad-input refusals of every scenario. Exits non-zero when a row failed or when there are no rows.

usage: python tests/fault/report.py [ROWS_DIR] [OUTPUT] [NOTE]
NOTE, when given, is a sentence the header carries (where the rows came from, when they came from more than one run).
"""

from __future__ import annotations

import datetime
import json
import platform
import sys
from collections import defaultdict
from pathlib import Path

TOP = Path(__file__).resolve().parents[2]
SUITES = {"bookworm": "etcd 3.4.23 (Debian bookworm)", "trixie": "etcd 3.5.16 (Debian trixie)"}
KINDS = {
    "interrupt": "Runs killed at a task boundary, then run again",
    "node-death": "A node killed while a task runs on it, booted again, then the run repeated",
    "bad-input": "Bad input: refused, every node compared before and after",
    "edge": "The data-loss edges of issue #21, each reproduced on the lab before its fix",
    "edge-24": "The edges of a real estate (issue #24), each tried on the lab before its fix",
    "drill": "Restore drills (issue #25): snapshots proved, damage found, drilled snapshots chosen",
    "kubernetes": "Under Kubernetes (issue #26): the kube-apiservers stopped around a recovery, and the site's hooks",
}
# The six edges of issue #21 by number; a test records what the operation does at its edge now (lab.record_edge).
EDGES = {
    1: "another cluster's snapshot in the store or the bucket (same token)",
    2: "a quorate cluster under the NOSPACE alarm",
    3: "a retention count of 0",
    4: "a TLS cluster whose CA has no keyUsage (Python 3.13 on the members)",
    5: "a play that leaves out members that still serve",
    6: "deploy.yml on a running cluster whose env file differs from the inventory",
}
# The edges of issue #24 by number (lab.record_edge(..., issue=24)); those whose decision rests on observations alone
# are also planner cases in tests/unit.
EDGES_24 = {
    1: "quorum while the node to replace is stopped and not yet removed (even-sized clusters)",
    2: "a separate WAL dir (ETCD_WAL_DIR)",
    3: "secrets in --diff",
    4: "one run at a time",
    5: "a report on every outcome",
    6: "work dirs on members",
    7: "env files as systemd reads them",
    8: "the kill sweep on etcd 3.4",
}
INTRO = {
    "interrupt": (
        "ansible-playbook killed with SIGKILL as the next task starts (tests/lab/callback_plugins/interrupt.py): "
        "a lost controller or SSH session, no handler and no clean-up. Each point starts from the same disaster "
        "(disaster_recovery: node2 and node3 lose their data dir, node1 runs on without quorum; replace_member: "
        "etcd on node3 fails and its data dir is to be moved aside), then the same command runs again. "
        "\"Recovered\" means: every member healthy and voting, every key written before the disaster there "
        "with its value on every member, no moved-aside data dir gone and exactly the expected ones added, "
        "no staging dir, snapshot copy or unretired restore mark left, etcd enabled at boot. A task that "
        "changed nothing on any host in the uninterrupted run leaves every node as the task before it did: "
        "one kill stands for such a run of tasks (`ETCD_OPS_FAULTS=every` kills after each one)."),
    "node-death": (
        "The node's container is killed (`docker kill`: every process gone at once, as a power cut, though "
        "the page cache survives) 0.3 s after the task starts; the run fails as it loses the node; the "
        "container is started again (systemd boots, etcd starts if enabled), then the same command runs "
        "again and is checked as above."),
    "bad-input": (
        "Each input is run with the README's command over SSH+sudo; the run must fail with the message shown, "
        "and every node's files under /data (env file included), packages, etcd process, units and listening "
        "ports must be the same after it as before (no snapshot copy left on a node either)."),
    "edge": (
        "Issue #21 found six ways the operations lost data, split a cluster or emptied it while exiting 0. Each "
        "was reproduced on a lab like this one; each row is a lab test that failed before the fix, and says what "
        "the operation does at that edge now. An edge with no row on a suite did not run there (the scenario "
        "is not in this run, or etcd 3.4 behaves otherwise: its health ignores alarms)."),
    "edge-24": (
        "Issue #24 lists the edges a real estate has and the lab's matrix did not try. Each row is a lab test: what "
        "the operation does at that edge now (what it did before is in the issue's notes and the docs of each "
        "operation). An edge with no row on a suite did not run there."),
    "drill": (
        "verify_backup.yml, backup.yml's drills and the members' timer job on the lab (scenario verify_backup), and "
        "disaster_recovery.yml's etcd_snapshot_time: each row is a drill of a real snapshot restored into a scratch "
        "etcd on a member, and what it found; every member's fingerprint and the cluster's KV hash were the same "
        "before and after each drill."),
    "kubernetes": (
        "disaster_recovery.yml with etcd_recovery_kube_apiserver and hooks on the lab (scenario disaster_recovery): "
        "a stand-in kube-apiserver on each member logs the cluster its etcd shows; each row is a recovery, and how "
        "long the apiservers were down."),
}
# the two middle columns of a row-per-case table: what a case is, and what its outcome says
CASE_COLUMNS = {"drill": ("snapshot", "what the drill found"), "kubernetes": ("case", "what happened")}


def load(rows_dir: Path) -> list[dict]:
    rows = []
    for path in sorted(rows_dir.glob("*.jsonl")):
        rows.extend(json.loads(line) for line in path.read_text().splitlines() if line.strip())
    return rows


def cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def passed(row: dict) -> bool:
    return not row["outcome"].startswith("FAILED")


def sweep_rows(rows: list[dict]) -> list[dict]:
    """Issue #24's edge 8, the kill sweep on both etcd versions: one row per suite whose fault suite ran, from its
    rows of runs killed and nodes killed (their tables are above)."""
    out = []
    for suite in sorted({r["suite"] for r in rows}):
        mine = [r for r in rows if r["suite"] == suite and r["kind"] in ("interrupt", "node-death")]
        if not mine:
            continue
        bad = sum(not passed(r) for r in mine)
        out.append(dict(suite=suite, kind="edge-24", edge=8, playbook="disaster_recovery.yml, replace_member.yml",
                        case="killed after each task, and a node killed mid-run, then run again (the fault suite)",
                        outcome=f"FAILED: {bad} of {len(mine)} did not recover" if bad else "recovered every time",
                        detail="the runs killed and the nodes killed above", seconds=0.0))
    return out


def render(rows: list[dict], note: str = "") -> str:
    rows = rows + sweep_rows(rows)
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    suites = sorted({r["suite"] for r in rows})
    out = [
        "# Reliability: what was tried and what happened",
        "",
        "Generated by `tests/fault/report.py` at the end of the test command (`make test`, or `make test-full` "
        f"with the fault suite and every scenario) on {now}, from the "
        "rows its runs recorded: the fault suite (`tests/fault`, molecule scenario `faults`) and the refusal "
        "tests of every scenario that ran. Do not edit by hand; run `make test-full` to make it whole again." +
        (f" {note}" if note else ""),
        "",
        f"Lab: three etcd members (containers with systemd as PID 1) reached over SSH as a sudo user; "
        f"{', '.join(SUITES.get(s, s) for s in suites)}; controller {platform.system()} "
        f"{platform.machine()}, Python {platform.python_version()}.",
        "",
        f"**{sum(passed(r) for r in rows)} of {len(rows)} rows passed.**",
        "",
        "| kind | " + " | ".join(SUITES.get(s, s) for s in suites) + " |",
        "|---|" + "---|" * len(suites),
    ]
    for kind, title in KINDS.items():
        counts = []
        for suite in suites:
            mine = [r for r in rows if r["kind"] == kind and r["suite"] == suite]
            counts.append(f"{sum(passed(r) for r in mine)}/{len(mine)} passed" if mine else "-")
        out.append(f"| {title} | " + " | ".join(counts) + " |")
    for kind, title in KINDS.items():
        mine = [r for r in rows if r["kind"] == kind]
        if not mine:
            continue
        out += ["", f"## {title}", "", INTRO[kind], ""]
        if kind == "bad-input":
            out += bad_inputs(mine, suites)
            continue
        if kind in CASE_COLUMNS:
            out += drills(mine, suites, *CASE_COLUMNS[kind])
            continue
        if kind in ("edge", "edge-24"):
            out += edges(mine, suites, EDGES if kind == "edge" else EDGES_24)
            continue
        groups = defaultdict(list)
        for row in mine:
            groups[(row["playbook"], row["suite"])].append(row)
        for (playbook, suite), group in sorted(groups.items()):
            out += [f"### {playbook} on {SUITES.get(suite, suite)}", "",
                    "| # | when | result | left by the killed run; the re-run | seconds (both runs) |",
                    "|---|---|---|---|---|"]
            for number, row in enumerate(group, 1):
                out.append(f"| {number} | {cell(row['case'])} | {cell(row['outcome'])} | {cell(row['detail'])} "
                           f"| {row['seconds']} |")
            out.append("")
    return "\n".join(out).rstrip() + "\n"


def bad_inputs(rows: list[dict], suites: list[str]) -> list[str]:
    table = {}
    for row in rows:
        entry = table.setdefault((row["playbook"], row["case"]), {"message": row["detail"]})
        entry[row["suite"]] = "passed" if passed(row) else row["outcome"]
    lines = ["| playbook | input | " + " | ".join(SUITES.get(s, s).split(" (")[0] for s in suites)
             + " | message (the first failed task's) |",
             "|---|---|" + "---|" * len(suites) + "---|"]
    for (playbook, case), entry in sorted(table.items()):
        lines.append(f"| {playbook} | {cell(case)} | " + " | ".join(entry.get(s, "not run") for s in suites)
                     + f" | {cell(entry['message'])} |")
    return lines


def drills(rows: list[dict], suites: list[str], case_title: str = "snapshot",
           outcome_title: str = "what the drill found") -> list[str]:
    """One row per case (the drills, the recoveries under Kubernetes), a column per suite."""
    table = {}
    for row in rows:
        entry = table.setdefault((row["playbook"], row["case"]), {"outcome": row["outcome"], "detail": row["detail"]})
        entry[row["suite"]] = "passed" if passed(row) else row["outcome"]
    lines = [f"| playbook | {case_title} | " + " | ".join(SUITES.get(s, s).split(" (")[0] for s in suites)
             + f" | {outcome_title} | message, or what the test saw |",
             "|---|---|" + "---|" * len(suites) + "---|---|"]
    for (playbook, case), entry in table.items():
        lines.append(f"| {playbook} | {cell(case)} | " + " | ".join(entry.get(s, "not run") for s in suites)
                     + f" | {cell(entry['outcome'])} | {cell(entry['detail'])} |")
    return lines


def edges(rows: list[dict], suites: list[str], titles: dict[int, str]) -> list[str]:
    table = {}
    for row in rows:
        entry = table.setdefault((row.get("edge", 0), row["playbook"], row["case"]),
                                 {"outcome": row["outcome"], "detail": row["detail"]})
        entry[row["suite"]] = "passed" if passed(row) else row["outcome"]
    lines = ["| edge | playbook | case | " + " | ".join(SUITES.get(s, s).split(" (")[0] for s in suites)
             + " | what it does now | message, or what the test saw |",
             "|---|---|---|" + "---|" * len(suites) + "---|---|"]
    for number, title in titles.items():
        mine = sorted(key for key in table if key[0] == number)
        if not mine:
            lines.append(f"| {number}. {cell(title)} | | (no test of it in this run)"
                         + " | not run" * len(suites) + " | | |")
        for key in mine:
            entry, playbook, case = table[key], key[1], key[2]
            lines.append(f"| {number}. {cell(title)} | {playbook} | {cell(case)} | "
                         + " | ".join(entry.get(s, "not run") for s in suites)
                         + f" | {cell(entry['outcome'])} | {cell(entry['detail'])} |")
    return lines


def main() -> int:
    rows_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else TOP / "tests" / "output" / "reliability"
    output = Path(sys.argv[2]) if len(sys.argv) > 2 else TOP / "docs" / "reliability.md"
    note = sys.argv[3] if len(sys.argv) > 3 else ""
    rows = load(rows_dir)
    if not rows:
        print(f"no rows in {rows_dir}", file=sys.stderr)
        return 1
    output.write_text(render(rows, note))
    bad = [r for r in rows if not passed(r)]
    print(f"{output}: {len(rows) - len(bad)} of {len(rows)} rows passed")
    for row in bad:
        print(f"FAILED: {row['playbook']}: {row['case']}: {row['outcome']}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
