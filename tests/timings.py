"""The table the test command prints at its end: each step's seconds and result, molecule's phases of each scenario
run (from the log's time stamps), and the slowest test of each step (from its junit file). Also written to
tests/output/timings.md, the table docs/testing.md quotes.

usage: python tests/timings.py OUTPUT_DIR     (reads OUTPUT_DIR/steps.tsv, logs/NAME.log, junit/NAME[.N].xml,
                                              playbooks.tsv)

steps.tsv has one line per step: NAME, seconds, PASSED or FAILED, separated by tabs, and for a scenario run in one of
the two labs that run at once a fourth field, "lab N" (not added to the total: the step "two labs at once" holds
their wall clock). A log line starts with the epoch second it was written at (tests/run.sh stamps them).
"""

from __future__ import annotations

import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

COLOR = r"(?:\x1b\[[0-9;]*m)?"
PHASE = re.compile(rf"^(\d+) .*➜ {COLOR}([a-z_]+){COLOR}: {COLOR}(Executing|Executed)")


def phases(log: Path) -> list[tuple[str, int]]:
    """molecule's phases in the order they ran, with their seconds: [("create", 21), ("prepare", 47), ...]."""
    if not log.is_file():
        return []
    started: dict[str, int] = {}
    done: list[tuple[str, int]] = []
    for line in log.read_text(errors="replace").splitlines():
        match = PHASE.match(line)
        if not match:
            continue
        stamp, phase, what = int(match[1]), match[2], match[3]
        if what == "Executing":
            started.setdefault(phase, stamp)
        elif phase in started:
            done.append((phase, stamp - started.pop(phase)))
    return done


def slowest(junit_dir: Path, name: str) -> tuple[str, float] | None:
    """The slowest test case of a step's pytest junit files (NAME.xml, or NAME.N.xml), by name and seconds."""
    cases = [(case.get("name", "?"), float(case.get("time", 0) or 0))
             for path in [junit_dir / f"{name}.xml", *sorted(junit_dir.glob(f"{name}.*.xml"))] if path.is_file()
             for case in ET.parse(path).getroot().iter("testcase")]
    return max(cases, key=lambda case: case[1]) if cases else None


def playbook_runs(out: Path) -> dict[str, tuple[int, float]]:
    """Each scenario run's playbook runs (tests/output/playbooks.tsv, written by tests/lab/pylib/lab.py): {step:
    (how many, their seconds)}."""
    runs: dict[str, tuple[int, float]] = {}
    path = out / "playbooks.tsv"
    for line in path.read_text().splitlines() if path.is_file() else []:
        step, _test, _playbook, seconds, _rc = line.split("\t")
        count, total = runs.get(step, (0, 0.0))
        runs[step] = (count + 1, total + float(seconds))
    return runs


def table(out: Path) -> str:
    rows = [line.split("\t") for line in (out / "steps.tsv").read_text().splitlines() if line.strip()]
    runs = playbook_runs(out)
    lines = ["| step | seconds | result | where the time went |", "|---|---:|---|---|"]
    total = 0
    for name, seconds, result, *lab in rows:
        notes = []
        if lab:  # a scenario run in one of two labs at once: the wall clock of both is a step of its own
            notes.append(lab[0])
        else:
            total += int(seconds)
        done = phases(out / "logs" / f"{name}.log")
        if done:
            notes.append(", ".join(f"{phase} {secs}" for phase, secs in done))
        if name in runs:
            notes.append(f"{runs[name][0]} playbook runs in the tests, {runs[name][1]:.0f} s")
        slow = slowest(out / "junit", name)
        if slow:
            notes.append(f"slowest test {slow[0]} {slow[1]:.0f} s")
        lines.append(f"| {name} | {seconds} | {result} | {'; '.join(notes)} |")
    lines.append(f"| **all steps** | **{total}** | | {total // 60} min {total % 60} s |")
    return "\n".join(lines) + "\n"


def main() -> int:
    out = Path(sys.argv[1])
    text = table(out)
    (out / "timings.md").write_text(text)
    print(text, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
