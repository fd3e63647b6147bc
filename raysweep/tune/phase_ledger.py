"""The wall time of a study's phases over every invocation that ran it.

A study that runs in parts (stopped, then continued with ``--resume``) spends wall time in each part;
the phase timers of one invocation see only their own. :class:`PhaseLedger` keeps one entry per
invocation in ``results/NAME/phases.json`` (written atomically): the seconds each phase has run so far,
refreshed every ``every`` seconds by a daemon thread while a phase runs, so an invocation that is
killed (a session's end, a lost head node) loses at most that much of its record. The study's
timings are the sums over the entries; ``complete`` says whether they can cover every invocation (a
resumed study whose earlier parts left no entry, e.g. run before this ledger existed, cannot).

>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "phases.json"
>>> first = PhaseLedger.open(path, resume=False)
>>> with first.phase("search"):
...     pass
>>> second = PhaseLedger.open(path, resume=True)
>>> second.invocations, second.complete, sorted(second.totals())
(2, True, ['search'])
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from raysweep import atomic

PHASES = "phases.json"
"""The ledger's file name in the study's local folder (``results/NAME/``)."""


class PhaseLedger:
    """Seconds per phase of every invocation of one study; open it with :meth:`open`."""

    def __init__(self, path: Path, entries: list[dict[str, Any]], resumed: bool, every: float) -> None:
        self.path = Path(path)
        self.entries = entries
        self.resumed = resumed
        self.every = every
        self._lock = threading.Lock()
        self._active: tuple[str, float, float] | None = None  # phase, its seconds before, perf_counter at start
        self._beat: threading.Thread | None = None

    @classmethod
    def open(cls, path: str | Path, resume: bool, every: float = 15.0) -> PhaseLedger:
        """This invocation's ledger: the earlier invocations' entries when ``resume`` (a fresh study
        starts an empty one), and a new entry for this one."""
        entries: list[dict[str, Any]] = []
        if resume:
            try:
                entries = list(json.loads(Path(path).read_text())["invocations"])
            except (OSError, ValueError, KeyError, TypeError):
                entries = []
        entries.append({"started": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "phases": {}})
        ledger = cls(Path(path), entries, resume, every)
        ledger._write()
        return ledger

    @property
    def invocations(self) -> int:
        """How many invocations the ledger holds (this one included)."""
        return len(self.entries)

    @property
    def complete(self) -> bool:
        """True when the sums can cover every invocation: a fresh study, or a resumed one whose earlier
        invocations left their entries."""
        return not self.resumed or self.invocations > 1

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        """Time phase ``name`` of this invocation (added to what it ran before in this invocation)."""
        with self._lock:
            before = float(self.entries[-1]["phases"].get(name, 0.0))
            self._active = (name, before, time.perf_counter())
        if self._beat is None:
            self._beat = threading.Thread(target=self._heartbeat, name="raysweep-phase-ledger", daemon=True)
            self._beat.start()
        try:
            yield
        finally:
            with self._lock:
                self._settle()
                self._active = None
            self._write()

    def totals(self) -> dict[str, float]:
        """Seconds per phase, summed over the invocations (the running phase up to now)."""
        with self._lock:
            self._settle()
            out: dict[str, float] = {}
            for entry in self.entries:
                for name, seconds in entry["phases"].items():
                    out[name] = out.get(name, 0.0) + float(seconds)
        return out

    def _settle(self) -> None:
        """Bring the running phase's seconds up to now (the caller holds the lock)."""
        if self._active is not None:
            name, before, start = self._active
            self.entries[-1]["phases"][name] = before + time.perf_counter() - start

    def _heartbeat(self) -> None:
        while True:
            time.sleep(self.every)
            with self._lock:
                if self._active is None:
                    continue
                self._settle()
            self._write()

    def _write(self) -> None:
        with self._lock:
            text = json.dumps({"invocations": self.entries}, indent=1)
        atomic.write_text(self.path, text + "\n")
