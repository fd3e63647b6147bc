"""A throw-away TWO-node Ray cluster on this machine for `ray up`: two network namespaces joined by a
veth pair, the head in one and a worker in the other, each reached over SSH through an inetd-mode
``sshd`` that ssh's ProxyCommand starts inside that node's namespace (see two_nodes.yaml).

Builds on :class:`local_cluster.LocalCluster` (keys, the `ray` wrapper, markers, `ray up/exec/down`,
cleanup by PID). What it adds:

- :class:`NetnsPair`: namespaces ``rsw2n-<tag>-h`` and ``rsw2n-<tag>-w`` on 198.51.100.1 and .2
  (the documentation range, reachable only between the two), joined by the veth pair of the same
  names; it removes only what it made, by name;
- :class:`TwoNodeCluster`: a second node (its sshd config, its session HOME and Ray temp dir, its own
  ``RAYSWEEP_TEST_NODE`` marker), the ``node-proxy`` ProxyCommand, and :meth:`TwoNodeCluster.kill_worker_node`,
  which SIGKILLs the worker node's Ray processes (a reclaimed spot node) and nothing else.

Run on the head by the test (``ray exec ... python tests/cluster/two_nodes.py probe|runs``), this file
is also the probe that joins the cluster with ``address="auto"``: ``probe`` waits for the expected
number of alive nodes and checks token authentication; ``runs`` prints Ray Train's record of every
Train run (attempts, and the node of each worker) as JSON, from the Train state actor (the driver sets
``RAY_TRAIN_ENABLE_STATE_TRACKING=1``).
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import shlex
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from local_cluster import HERE, SSHD, LocalCluster, tail
from stop_marked import NODE_VAR, alive, describe, marked_processes, name, stop

PREFIX = "rsw2n-"
"""Every namespace and veth this harness makes is named ``rsw2n-<tag>-h`` / ``rsw2n-<tag>-w``."""
HEAD_IP = "198.51.100.1"
WORKER_IP = "198.51.100.2"
PREFIX_LEN = 24
GCS_PORT = 6379  # the namespaces are private: no other Ray listens there
NETNS_DIR = Path("/run/netns")


def _ip(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", *args], capture_output=True, text=True)


@dataclass
class NetnsPair:
    """Two network namespaces joined by a veth pair (one end in each), made and removed by name."""

    tag: str = field(default_factory=lambda: uuid.uuid4().hex[:6])

    @property
    def head(self) -> str:
        """The head's namespace, and the name of its end of the veth pair (15 characters at most)."""
        return f"{PREFIX}{self.tag}-h"

    @property
    def worker(self) -> str:
        return f"{PREFIX}{self.tag}-w"

    def create(self) -> None:
        """Make both namespaces, the veth pair between them, the addresses; ``lo`` up in each (Ray
        binds its local services to 127.0.0.1). Raises with ip's message on the first failure."""
        steps = [
            ("netns", "add", self.head),
            ("netns", "add", self.worker),
            ("link", "add", self.head, "type", "veth", "peer", "name", self.worker),
            ("link", "set", self.head, "netns", self.head),
            ("link", "set", self.worker, "netns", self.worker),
        ]
        for ns, address in ((self.head, HEAD_IP), (self.worker, WORKER_IP)):
            steps += [
                ("-n", ns, "addr", "add", f"{address}/{PREFIX_LEN}", "dev", ns),
                ("-n", ns, "link", "set", ns, "up"),
                ("-n", ns, "link", "set", "lo", "up"),
            ]
        for step in steps:
            done = _ip(*step)
            if done.returncode != 0:
                raise RuntimeError(f"`ip {' '.join(step)}` failed: {done.stderr.strip()}")

    def namespace(self, address: str) -> str:
        return {HEAD_IP: self.head, WORKER_IP: self.worker}[address]

    def left(self) -> list[str]:
        """What of this pair still exists: its namespaces, and a veth end left in the host's namespace."""
        names = _ip("netns", "list").stdout.split()
        found = [f"netns {ns}" for ns in (self.head, self.worker) if ns in names]
        found += [f"link {end}" for end in (self.head, self.worker) if _ip("link", "show", end).returncode == 0]
        return found

    def processes(self) -> list[int]:
        """PIDs running inside either namespace (by the inode of /proc/PID/ns/net)."""
        inodes = set()
        for ns in (self.head, self.worker):
            try:
                inodes.add((NETNS_DIR / ns).stat().st_ino)
            except OSError:
                pass
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                if os.stat(entry / "ns" / "net").st_ino in inodes and alive(int(entry.name)):
                    found.append(int(entry.name))
            except OSError:
                continue
        return found

    def remove(self) -> list[str]:
        """Delete this pair's namespaces (their veth ends go with them) and a veth end still in the
        host's namespace (a create() that failed halfway); returns what is still there afterwards."""
        for what in self.left():
            kind, name = what.split()
            _ip("netns", "del", name) if kind == "netns" else _ip("link", "del", name)
        return self.left()


@dataclass
class TwoNodeCluster(LocalCluster):
    """:class:`LocalCluster` with a head and one worker, each in its own network namespace."""

    netns: NetnsPair = field(default_factory=NetnsPair)
    template: Path = HERE / "two_nodes.yaml"
    worker_sshd: subprocess.Popen[bytes] | None = None

    @property
    def worker_marker(self) -> str:
        """The worker node's ``RAYSWEEP_TEST_NODE`` (the head's is :attr:`marker`)."""
        return f"{self.marker}-w"

    @property
    def worker_home(self) -> Path:
        return self.root / "home-worker"

    @property
    def worker_tmp(self) -> Path:
        return self.root / "tmp-worker"

    def prepare(self) -> Path:
        """The single-node files, then the worker's sshd config and HOME and the ProxyCommand; both
        nodes' sessions name their veth end for gloo (every node's hostname resolves to 127.0.0.1 here,
        which gloo would otherwise pick: DDP between the nodes must go over the veth)."""
        config = super().prepare()
        self.write_node(
            self.root / "sshd_config", self.home, self.ray_tmp, self.marker, {"GLOO_SOCKET_IFNAME": self.netns.head}
        )
        self.write_node(
            self.root / "sshd_worker_config",
            self.worker_home,
            self.worker_tmp,
            self.worker_marker,
            {
                "GLOO_SOCKET_IFNAME": self.netns.worker,
                # the autoscaler copies cluster_synced_files to the path it has on the head (it expands ~
                # there): on a real cluster that is the worker's ~/.ray/auth_token, here the head's HOME
                "RAY_AUTH_TOKEN_PATH": str(self.home / ".ray" / "auth_token"),
            },
        )
        # `ray up` drops ssh_proxy_command from the head's copy of the config: the head's autoscaler
        # reaches the worker over the network, as on a real cluster, so the worker also has an sshd
        # listening on its address (started by start_nodes); the ProxyCommand serves the test's client
        with (self.root / "sshd_worker_config").open("a") as out:
            out.write(f"ListenAddress {WORKER_IP}:22\n")
        # ssh expands a leading ~ in -i (`ray up` gives the head `-i ~/ray_bootstrap_key.pem`) from the user's
        # passwd entry, not from $HOME: a node whose HOME is a test folder needs it expanded from $HOME
        # (on a real node they are the same). On the nodes' PATH only, never the test's client.
        ssh_wrapper = self.root / "bin" / "ssh"
        ssh_wrapper.write_text(
            "#!/bin/sh\n"
            "# test-only: expand ~/ from $HOME (this node's HOME is the test's), then the real ssh\n"
            'for arg; do shift; case "$arg" in "~/"*) arg="$HOME/${arg#"~/"}" ;; esac; set -- "$@" "$arg"; done\n'
            'exec /usr/bin/ssh "$@"\n'
        )
        ssh_wrapper.chmod(0o755)
        proxy = self.root / "bin" / "node-proxy"
        sshd = "/usr/sbin/sshd -i"
        proxy.write_text(
            "#!/bin/sh\n"
            "# ssh ProxyCommand (%h = the node's address): an inetd-mode sshd inside that node's namespace\n"
            'case "$1" in\n'
            f"  {HEAD_IP}) exec nsenter --net={NETNS_DIR / self.netns.head} "
            f"{sshd} -f {self.root / 'sshd_config'} -E {self.root / 'logs' / 'sshd.log'} ;;\n"
            f"  {WORKER_IP}) exec nsenter --net={NETNS_DIR / self.netns.worker} "
            f"{sshd} -f {self.root / 'sshd_worker_config'} -E {self.root / 'logs' / 'sshd-worker.log'} ;;\n"
            '  *) echo "node-proxy: no test node at $1" >&2; exit 1 ;;\n'
            "esac\n"
        )
        proxy.chmod(0o755)
        return config

    def env(self) -> dict[str, str]:
        """The client's environment, with `ray up` told to start the v1 autoscaler on the head: Ray 2.60's
        default (v2) monitor never launched the local provider's worker here (it went quiet once the head
        was up), while v1 launches it, and restarts Ray there when its raylet stops sending heartbeats."""
        return {**super().env(), "RAY_UP_enable_autoscaler_v2": "0"}

    def template_values(self) -> dict[str, str]:
        return {**super().template_values(), "HEAD_IP": HEAD_IP, "WORKER_IP": WORKER_IP, "GCS_PORT": str(GCS_PORT)}

    # ---------------------------------------------------------------- the nodes
    def start_nodes(self) -> None:
        """Make the namespaces and start the worker's listening sshd inside its namespace (marked, so
        that the final cleanup finds it); :meth:`prepare` first."""
        self.netns.create()
        log = self.root / "logs" / "sshd-worker-daemon.log"
        self.worker_sshd = subprocess.Popen(
            ["nsenter", f"--net={NETNS_DIR / self.netns.worker}", str(SSHD), "-D"]
            + ["-f", str(self.root / "sshd_worker_config"), "-E", str(log)],
            env=self.env(),
            stdin=subprocess.DEVNULL,
        )

    def stop_worker_sshd(self) -> None:
        if self.worker_sshd is not None and self.worker_sshd.poll() is None:
            self.worker_sshd.terminate()
            try:
                self.worker_sshd.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.worker_sshd.kill()
                self.worker_sshd.wait()

    def cleanup(self, grace: float = 15.0) -> list[str]:
        """The worker's sshd, then what :meth:`LocalCluster.cleanup` finds by marker, then anything still
        running inside the two namespaces (nothing else can be there: this test made them)."""
        self.stop_worker_sshd()
        found = super().cleanup(grace)
        inside = self.netns.processes()
        if inside:
            found += [f"IN NAMESPACE {line}" for line in describe(inside)]
            found += [f"UNKILLABLE {line}" for line in describe(stop(inside, grace=5.0))]
        return found

    # ---------------------------------------------------------------- the worker node
    def worker_processes(self) -> list[int]:
        """The worker node's Ray processes (raylet, its workers and agents; not the SSH plumbing)."""
        return marked_processes(self.worker_marker, include_ssh=False, var=NODE_VAR)

    def head_processes(self) -> list[int]:
        return marked_processes(self.marker, include_ssh=False, var=NODE_VAR)

    def node_ssh(self, address: str, command: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """Run ``command`` in a login shell of the node at ``address``, as Ray's own ssh does (through the
        ProxyCommand, so from the host's namespace)."""
        key = self.root / "ssh" / "id_ed25519"
        options = ["-o", f"ProxyCommand={self.root / 'bin' / 'node-proxy'} %h", "-o", "BatchMode=yes"]
        options += ["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR"]
        user = getpass.getuser()
        cmd = ["ssh", "-i", str(key), *options, f"{user}@{address}", f"bash --login -c {shlex.quote(command)}"]
        return subprocess.run(cmd, capture_output=True, text=True, env=self.env(), timeout=timeout)

    def stop_worker_ray(self) -> subprocess.CompletedProcess[str]:
        """`ray stop` on the worker node. `ray down` stops Ray on the head only and then "terminates" the
        workers through the provider, which for the local provider only marks them terminated (a cloud
        provider would end the machine): the worker's raylet exits once it loses the GCS, but its log
        monitor stays. Ending the worker's Ray is this test's stand-in for ending the machine."""
        return self.node_ssh(WORKER_IP, "ray stop")

    def kill_worker_node(self) -> list[int]:
        """SIGKILL every Ray process of the worker node at once, as a reclaimed spot node loses them (no
        `ray stop`, no drain), twice over (a worker the raylet forked meanwhile); returns the PIDs killed.
        The head and the SSH plumbing are untouched."""
        killed: list[int] = []
        for _ in range(2):
            pids = [pid for pid in self.worker_processes() if pid not in killed]
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            killed += pids
        return killed

    def worker_raylet(self, not_in: list[int] | tuple[int, ...] = ()) -> int | None:
        """The PID of the worker node's raylet (one not among ``not_in``), or None while it has none."""
        return next((pid for pid in self.worker_processes() if name(pid) == "raylet" and pid not in not_in), None)

    # ---------------------------------------------------------------- commands in the background
    def start_exec(self, name: str, command: str) -> tuple[subprocess.Popen[bytes], Path]:
        """``ray exec CONFIG COMMAND`` in the background (logged to logs/NAME.log): the test watches the
        storage meanwhile. :meth:`finish_exec` waits for it and records the step."""
        log = self.root / "logs" / f"{name}.log"
        cmd = [str(self.venv_bin / "ray"), "exec", str(self.config), command]
        out = log.open("w")
        out.write(f"$ {' '.join(cmd)}\n")
        out.flush()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=self.env(), cwd=self.repo)
        out.close()
        proc.started_at = time.perf_counter()  # type: ignore[attr-defined]
        return proc, log

    def finish_exec(self, name: str, proc: subprocess.Popen[bytes], log: Path, timeout: float) -> int | None:
        """Wait for a :meth:`start_exec` command; its exit code (None: killed at ``timeout``)."""
        from local_cluster import Step

        try:
            code: int | None = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            code = None
        self.steps.append(Step(name, time.perf_counter() - proc.started_at, log))  # type: ignore[attr-defined]
        return code

    def diagnostics(self, log: Path | None = None) -> str:
        """The single-node diagnostics, then the worker's sshd log and Ray logs."""
        parts = [super().diagnostics(log)]
        parts.append(f"--- sshd-worker.log\n{tail(self.root / 'logs' / 'sshd-worker.log', 1500)}")
        session = self.worker_tmp / "ray" / "session_latest" / "logs"
        for log_name in ("raylet.err", "raylet.out"):
            if (session / log_name).is_file() and (session / log_name).stat().st_size:
                parts.append(f"--- worker {session / log_name}\n{tail(session / log_name, 1500)}")
        head_monitor = self.ray_tmp / "ray" / "session_latest" / "logs" / "monitor.out"
        if head_monitor.is_file():
            parts.append(f"--- {head_monitor}\n{tail(head_monitor, 2500)}")
        return "\n".join(parts)


# -------------------------------------------------------------------- run on the head (`ray exec`)
def _probe(nodes: int, wait: float) -> int:
    """Wait up to ``wait`` s for ``nodes`` alive nodes with distinct IPs; check token auth is on."""
    import ray
    from ray._raylet import AuthenticationMode, get_authentication_mode

    ray.init(address="auto", logging_level="ERROR")
    deadline = time.monotonic() + wait
    while True:
        live = [n for n in ray.nodes() if n.get("Alive")]
        if len(live) >= nodes or time.monotonic() > deadline:
            break
        time.sleep(1.0)
    mode = get_authentication_mode()
    resources = ray.cluster_resources()
    ray.shutdown()
    ips = sorted(n["NodeManagerAddress"] for n in live)
    problems = []
    if len(live) != nodes or len(set(ips)) != nodes:
        problems.append(f"{len(live)} alive node(s) at {ips} after {wait:.0f} s, expected {nodes} with distinct IPs")
    if mode != AuthenticationMode.TOKEN:
        problems.append(f"token authentication is off (mode {mode})")
    print(json.dumps({"nodes": [{"id": n["NodeID"], "ip": n["NodeManagerAddress"]} for n in live], "cpu": resources}))
    if problems:
        print("probe failed: " + "; ".join(problems), file=sys.stderr)
        return 1
    print(f"probe ok: {nodes} nodes {ips}, CPU {resources.get('CPU', 0):g}, token auth on")
    return 0


def train_runs() -> list[dict[str, Any]]:
    """Every Train run Ray Train's state actor recorded: name, status, and per attempt its status and
    each worker's rank, node ID and node IP (empty when state tracking was off)."""
    import ray
    from ray.train.v2._internal.state.state_actor import get_state_actor

    actor = get_state_actor()
    if actor is None:
        return []
    runs = ray.get(actor.get_train_runs.remote())
    attempts = ray.get(actor.get_train_run_attempts.remote())
    out = []
    for run_id, run in runs.items():
        tries = sorted(attempts.get(run_id, {}).values(), key=lambda a: a.start_time_ns)
        out.append(
            {
                "name": run.name,
                "status": str(run.status.value),
                "attempts": [
                    {
                        "status": str(a.status.value),
                        "detail": (a.status_detail or "")[:300],
                        "workers": [
                            {"rank": w.world_rank, "node_id": w.node_id, "node_ip": w.node_ip} for w in a.workers
                        ],
                    }
                    for a in tries
                ],
            }
        )
    return sorted(out, key=lambda r: r["name"])


def _runs() -> int:
    import ray

    ray.init(address="auto", logging_level="ERROR")
    print("TRAIN_RUNS " + json.dumps(train_runs()))
    ray.shutdown()
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    probe = sub.add_parser("probe", help="wait for N alive nodes; check token auth")
    probe.add_argument("--nodes", type=int, default=2)
    probe.add_argument("--wait", type=float, default=0.0)
    sub.add_parser("runs", help="print the Train state actor's runs as one TRAIN_RUNS <json> line")
    args = p.parse_args(argv)
    return _probe(args.nodes, args.wait) if args.command == "probe" else _runs()


if __name__ == "__main__":
    sys.exit(main())
