"""Stop only the processes that carry one test cluster's marker in their environment.

`ray stop` (and therefore `ray down`, which runs it on the head) kills *every* Ray process on the
machine, including other developers' and other tests' clusters. The local-provider test replaces the
`ray` seen by its SSH sessions with a wrapper that sends `ray stop` here instead. Every process the
test starts (the `ray` CLI, ssh, sshd -i, and on the "node" ray start, GCS, raylet, workers) inherits
``RAYSWEEP_TEST_CLUSTER=<id>``; what runs inside the node's SSH sessions also carries
``RAYSWEEP_TEST_NODE=<id>``. This script finds processes by those variables (in /proc: Linux only)
and stops them by PID, sparing its own ancestors (the SSH session that runs it). As `ray stop` it
stops the node's processes only, never the `ray up`/`ray down` client that asked for it.

    python stop_marked.py [--grace 10]      # id from $RAYSWEEP_TEST_NODE
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from pathlib import Path

MARKER_VAR = "RAYSWEEP_TEST_CLUSTER"  # everything the test starts, client side included
NODE_VAR = "RAYSWEEP_TEST_NODE"  # what runs in the node's SSH sessions (the Ray runtime)
# the SSH plumbing (client, ControlMaster, inetd-mode sshd and its session) is not Ray's: `ray stop`
# leaves it alone, the test's own cleanup stops it once `ray down` has returned
SSH_NAMES = {"ssh", "sshd", "sshd-session", "sshd-auth", "rsync", "sh", "bash"}
PROC = Path("/proc")


def _stat(pid: int) -> tuple[str, int] | None:
    """(state, parent pid) from /proc/PID/stat, or None when the process is gone."""
    try:
        text = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()
    return fields[0], int(fields[1])


def alive(pid: int) -> bool:
    """Running (a zombie waiting for its parent to reap it counts as gone)."""
    stat = _stat(pid)
    return stat is not None and stat[0] not in ("Z", "X")


def ancestors(pid: int) -> set[int]:
    found = set()
    while pid > 1:
        stat = _stat(pid)
        if stat is None:
            break
        pid = stat[1]
        found.add(pid)
    return found


def name(pid: int) -> str:
    try:
        return (PROC / str(pid) / "comm").read_text().strip()
    except OSError:
        return "?"


def _children() -> dict[int, list[int]]:
    """Parent pid -> its live children's pids, from /proc."""
    tree: dict[int, list[int]] = {}
    for entry in PROC.iterdir():
        if entry.name.isdigit():
            stat = _stat(int(entry.name))
            if stat is not None and stat[0] not in ("Z", "X"):
                tree.setdefault(stat[1], []).append(int(entry.name))
    return tree


def marked_processes(marker: str, include_ssh: bool = True, var: str = MARKER_VAR) -> list[int]:
    """PIDs (not this process, nor its ancestors) whose environment holds ``VAR=marker``, and their
    descendants: Ray's dashboard and runtime-env agents rename themselves (setproctitle) over their
    environment's memory, so /proc/PID/environ no longer shows the marker they inherited; as children
    of a marked raylet they are found all the same (an SSH process's children only if marked)."""
    if not marker:
        raise ValueError(f"{var} is empty: refusing to match every process")
    me = os.getpid()
    spared = {me, *ancestors(me)}
    needle = f"{var}={marker}".encode()
    found = []
    for entry in PROC.iterdir():
        if not entry.name.isdigit() or int(entry.name) in spared:
            continue
        try:
            environ = (entry / "environ").read_bytes().split(b"\0")
        except OSError:  # gone, or not ours to read
            continue
        pid = int(entry.name)
        if needle not in environ or not alive(pid):
            continue
        if not include_ssh and name(pid) in SSH_NAMES:
            continue
        found.append(pid)
    tree = _children()
    todo, seen = list(found), set(found)
    while todo:
        for child in tree.get(todo.pop(), []):
            if child not in seen and child not in spared and (include_ssh or name(child) not in SSH_NAMES):
                seen.add(child)
                found.append(child)
                todo.append(child)
    return found


def describe(pids: list[int]) -> list[str]:
    lines = []
    for pid in pids:
        try:
            cmdline = (PROC / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            cmdline = "(gone)"
        lines.append(f"{pid} [{name(pid)}] {cmdline.strip()[:160]}")
    return lines


def _signal(pids: list[int], sig: int) -> None:
    for pid in pids:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


def _wait(pids: list[int], timeout: float) -> list[int]:
    deadline = time.monotonic() + timeout
    left = [pid for pid in pids if alive(pid)]
    while left and time.monotonic() < deadline:
        time.sleep(0.2)
        left = [pid for pid in left if alive(pid)]
    return left


def stop(pids: list[int], grace: float = 10.0) -> list[int]:
    """SIGTERM each PID, SIGKILL what is left after ``grace`` seconds; returns the survivors."""
    _signal(pids, signal.SIGTERM)
    left = _wait(pids, grace)
    _signal(left, signal.SIGKILL)
    return _wait(left, 5.0)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--grace", type=float, default=10.0)
    args = p.parse_args(argv)
    marker = os.environ.get(NODE_VAR, "")
    if not marker:
        print(f"stop_marked: {NODE_VAR} is not set; nothing to stop", file=sys.stderr)
        return 1
    pids = marked_processes(marker, include_ssh=False, var=NODE_VAR)
    left = stop(pids, args.grace)
    print(f"stop_marked: stopped {len(pids) - len(left)} of {len(pids)} Ray processes of test node {marker}")
    for line in describe(left):
        print(f"stop_marked: still alive: {line}", file=sys.stderr)
    return 1 if left else 0


if __name__ == "__main__":
    sys.exit(main())
