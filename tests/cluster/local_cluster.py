"""A throw-away "cluster" on this machine for `ray up`: Ray's local node provider over SSH, where
the SSH server is `sshd -i` started per connection by ssh's ProxyCommand (inetd mode, no port).

Everything lives in one short temporary folder (``/tmp/rsc-XXXXXXXX``, short because Ray's Unix
sockets live under its temp dir): client and host keys, the sshd config and log, the SSH session's
HOME, Ray's temp dir, the rendered cluster config and one log per `ray` command. Every process the
harness starts carries ``RAYSWEEP_TEST_CLUSTER=<id>`` in its environment, which is how `ray stop`
(via the wrapper, see stop_marked.py) and the final cleanup find this cluster's processes, and only
them, to stop them by PID.
"""

from __future__ import annotations

import getpass
import hashlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from stop_marked import MARKER_VAR, NODE_VAR, describe, marked_processes, stop

HERE = Path(__file__).resolve().parent
TEMPLATE = HERE / "local.yaml"
SSHD = Path("/usr/sbin/sshd")
TOOLS = ("ssh", "ssh-keygen", "rsync")
LOG_TAIL = 4000


class ClusterStepError(AssertionError):
    """A `ray` command failed or timed out; the message carries its log and the cluster's logs."""


def missing_tools() -> list[str]:
    """What this machine lacks to run the harness (empty: good to go)."""
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if not SSHD.is_file():
        missing.append(str(SSHD))
    if not Path("/run/sshd").is_dir() and os.geteuid() != 0:
        missing.append("/run/sshd (sshd's privilege-separation dir; root can create it)")
    return missing


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def tail(path: Path, limit: int = LOG_TAIL) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError as err:
        return f"({path}: {err})"
    return text if len(text) <= limit else "..." + text[-limit:]


@dataclass
class Step:
    name: str
    seconds: float
    log: Path


@dataclass
class LocalCluster:
    repo: Path
    venv_bin: Path
    num_cpus: int = 2
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="rsc-", dir="/tmp")))
    marker: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    steps: list[Step] = field(default_factory=list)
    template: Path = TEMPLATE
    """The cluster config with ``{{PLACEHOLDER}}`` fields that :meth:`prepare` fills (template_values)."""

    @property
    def cluster_name(self) -> str:
        return f"raysweep-test-{self.marker}"

    @property
    def config(self) -> Path:
        return self.root / "cluster.yaml"

    @property
    def home(self) -> Path:
        return self.root / "home"

    @property
    def ray_tmp(self) -> Path:
        return self.root / "tmp"

    # ---------------------------------------------------------------- setup
    def prepare(self) -> Path:
        """Keys, sshd config, session HOME, `ray` wrapper and the rendered config; returns its path."""
        for sub in ("ssh", "home", "tmp", "bin", "logs", "client-home", "cache", "storage"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd refuses to start without it
        ssh = self.root / "ssh"
        for name in ("host_ed25519", "id_ed25519"):
            subprocess.run(
                ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", self.cluster_name, "-f", str(ssh / name)],
                check=True,
                capture_output=True,
            )
        shutil.copy(ssh / "id_ed25519.pub", ssh / "authorized_keys")
        self.write_node(self.root / "sshd_config", self.home, self.ray_tmp, self.marker)
        wrapper = self.root / "bin" / "ray"
        wrapper.write_text(
            "#!/bin/sh\n"
            "# test-only: the real `ray stop` kills every Ray process on the machine; stop this cluster's only\n"
            f'if [ "$1" = "stop" ]; then exec "{self.venv_bin / "python"}" "{HERE / "stop_marked.py"}"; fi\n'
            f'exec "{self.venv_bin / "ray"}" "$@"\n'
        )
        wrapper.chmod(0o755)
        text = self.template.read_text()
        for key, value in self.template_values().items():
            text = text.replace("{{" + key + "}}", value)
        if "{{" in text:
            raise ValueError(f"{self.template}: unfilled placeholder near {text[text.index('{{') :][:40]!r}")
        self.config.write_text(text)
        return self.config

    def write_node(
        self, sshd_config: Path, home: Path, ray_tmp: Path, node_marker: str, extra_env: dict[str, str] | None = None
    ) -> None:
        """One node's side of the SSH plumbing: the config of the sshd that serves it (its session's HOME
        and markers) and that HOME's .bashrc/.profile (PATH with the `ray` wrapper, Ray's temp dir,
        ``extra_env``). ``node_marker`` is the node's ``RAYSWEEP_TEST_NODE``: what `ray stop` there stops."""
        home.mkdir(parents=True, exist_ok=True)
        ray_tmp.mkdir(parents=True, exist_ok=True)
        ssh = self.root / "ssh"
        user = getpass.getuser()
        sshd_config.write_text(
            "\n".join(
                [
                    f"HostKey {ssh / 'host_ed25519'}",
                    f"AuthorizedKeysFile {ssh / 'authorized_keys'}",
                    "PubkeyAuthentication yes",
                    "PasswordAuthentication no",
                    "KbdInteractiveAuthentication no",
                    "UsePAM no",
                    "PermitRootLogin prohibit-password",
                    "StrictModes no",
                    "PidFile none",
                    f"AllowUsers {user}",
                    f"SetEnv HOME={home} {MARKER_VAR}={self.marker} {NODE_VAR}={node_marker}",
                    "LogLevel VERBOSE",
                ]
            )
            + "\n"
        )
        # Sourced by Ray's login shells (and by sshd for rsync): must print nothing.
        exports = {
            "PATH": f"{self.root / 'bin'}:{self.venv_bin}:$PATH",
            MARKER_VAR: self.marker,
            NODE_VAR: node_marker,
            "RAY_TMPDIR": str(ray_tmp),
            "TMPDIR": str(ray_tmp),
            "RAY_USAGE_STATS_ENABLED": "0",
            "RAYSWEEP_CACHE_DIR": str(self.root / "cache"),
            "HF_HUB_OFFLINE": "1",
            "HF_DATASETS_OFFLINE": "1",
            "TOKENIZERS_PARALLELISM": "false",
            **(extra_env or {}),
        }
        # Exports only, nothing else: bash started under sshd (SSH_CLIENT set) sources ~/.bashrc even for
        # `bash -c`, which is how Ray execs its workers, so anything here also runs in every Ray worker
        # (an `unset RAY_AUTH_MODE` here once made every runtime-env worker drop its auth token).
        lines = [f'export {key}="{value}"' for key, value in exports.items()]
        (home / ".bashrc").write_text("\n".join(lines) + "\n")
        (home / ".profile").write_text(". ~/.bashrc\n")

    def template_values(self) -> dict[str, str]:
        """What fills the template's placeholders (a subclass with its own template adds its own)."""
        return {
            "CLUSTER_NAME": self.cluster_name,
            "ROOT": str(self.root),
            "USER": getpass.getuser(),
            "REPO": str(self.repo),
            "NUM_CPUS": str(self.num_cpus),
            "GCS_PORT": str(free_port()),
            "DASHBOARD_PORT": str(free_port()),
            "AGENT_PORT": str(free_port()),
            "METRICS_PORT": str(free_port()),
            "RUNTIME_ENV_PORT": str(free_port()),
        }

    def env(self) -> dict[str, str]:
        """Environment of the `ray` client commands: marked, isolated HOME/TMPDIR, no stray address."""
        drop = ("RAY_ADDRESS", "RAY_AUTH", NODE_VAR)
        env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
        env.update(
            {
                MARKER_VAR: self.marker,
                "HOME": str(self.root / "client-home"),
                "TMPDIR": str(self.ray_tmp),
                "RAY_TMPDIR": str(self.ray_tmp),  # the local provider keeps its node state here
                "RAY_USAGE_STATS_ENABLED": "0",
                "PATH": f"{self.venv_bin}:{os.environ.get('PATH', '/usr/bin:/bin')}",
                "PYTHONUNBUFFERED": "1",
            }
        )
        return env

    # ---------------------------------------------------------------- ray commands
    def ray(self, name: str, args: list[str], timeout: float) -> Step:
        """Run ``ray ARGS`` from the test's venv, logged to logs/NAME.log; raise with logs on failure."""
        log = self.root / "logs" / f"{name}.log"
        cmd = [str(self.venv_bin / "ray"), *args]
        t0 = time.perf_counter()
        with log.open("w") as out:
            out.write(f"$ {' '.join(cmd)}\n")
            out.flush()
            proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=self.env(), cwd=self.repo)
            try:
                code = proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                code = None
        step = Step(name, time.perf_counter() - t0, log)
        self.steps.append(step)
        if code != 0:
            why = f"timed out after {timeout:.0f} s" if code is None else f"exited with {code}"
            raise ClusterStepError(f"`ray {' '.join(args[:2])} ...` ({name}) {why}\n{self.diagnostics(log)}")
        return step

    def up(self, timeout: float = 300) -> Step:
        return self.ray("up", ["up", "-y", "--no-config-cache", "--disable-usage-stats", str(self.config)], timeout)

    def exec(self, name: str, command: str, timeout: float = 600) -> Step:
        return self.ray(name, ["exec", str(self.config), command], timeout)

    def down(self, timeout: float = 120) -> Step:
        return self.ray("down", ["down", "-y", str(self.config)], timeout)

    # ---------------------------------------------------------------- processes and logs
    def processes(self, include_ssh: bool = True) -> list[int]:
        """Everything this harness started that still runs (``include_ssh=False``: Ray's only)."""
        if include_ssh:
            return marked_processes(self.marker)
        return marked_processes(self.marker, include_ssh=False, var=NODE_VAR)

    def wait_gone(self, include_ssh: bool, timeout: float) -> list[int]:
        """This cluster's processes still alive after waiting up to ``timeout`` s for them to exit."""
        deadline = time.monotonic() + timeout
        while True:
            procs = self.processes(include_ssh=include_ssh)
            if not procs or time.monotonic() > deadline:
                return procs
            time.sleep(0.5)

    def cleanup(self, grace: float = 15.0) -> list[str]:
        """Stop (by PID) whatever of this cluster is still running; returns what had to be stopped."""
        # ssh ControlMasters linger ControlPersist=10s after their last use: let them go by themselves
        leftovers = self.wait_gone(include_ssh=True, timeout=grace)
        found = describe(leftovers)
        survivors = stop(leftovers, grace=5.0)
        if survivors:
            found += [f"UNKILLABLE {line}" for line in describe(survivors)]
        return found

    def diagnostics(self, log: Path | None = None) -> str:
        parts = []
        if log is not None:
            parts.append(f"--- {log}\n{tail(log)}")
        parts.append(f"--- {self.root / 'logs' / 'sshd.log'}\n{tail(self.root / 'logs' / 'sshd.log', 1500)}")
        session = self.ray_tmp / "ray" / "session_latest" / "logs"
        for name in ("monitor.err", "monitor.log", "raylet.err", "gcs_server.err"):
            if (session / name).is_file() and (session / name).stat().st_size:
                parts.append(f"--- {session / name}\n{tail(session / name, 1500)}")
        parts.append(f"(everything is under {self.root}; kept for inspection on failure)")
        return "\n".join(parts)

    def timings(self) -> str:
        return ", ".join(f"{s.name} {s.seconds:.1f} s" for s in self.steps)

    @property
    def ssh_control_dir(self) -> Path:
        """Where Ray's ssh keeps this cluster's ControlMaster sockets (see ray's command_runner.py)."""
        user = hashlib.sha256(getpass.getuser().encode()).hexdigest()[:10]
        cluster = hashlib.sha256(self.cluster_name.encode()).hexdigest()[:10]
        return Path(f"/tmp/ray_ssh_{user}/{cluster}")

    def remove(self) -> None:
        """Delete the temporary folder and this cluster's (by then unused) ssh control folder."""
        shutil.rmtree(self.root, ignore_errors=True)
        shutil.rmtree(self.ssh_control_dir, ignore_errors=True)
