"""The phase ledger: a study's phase walls summed over its invocations, kept on disk while a phase runs."""

from __future__ import annotations

import json
import time
from pathlib import Path

from raysweep.tune.phase_ledger import PhaseLedger


def entries(path: Path) -> list[dict]:
    return json.loads(path.read_text())["invocations"]


def test_walls_add_up_over_invocations(tmp_path: Path) -> None:
    path = tmp_path / "phases.json"
    first = PhaseLedger.open(path, resume=False)
    with first.phase("prepare"):
        time.sleep(0.05)
    with first.phase("search"):
        time.sleep(0.1)
    second = PhaseLedger.open(path, resume=True)
    with second.phase("prepare"):
        time.sleep(0.05)
    with second.phase("finals"):
        time.sleep(0.05)
    totals = second.totals()
    on_disk = entries(path)
    assert len(on_disk) == 2 and set(on_disk[0]["phases"]) == {"prepare", "search"}
    assert totals["prepare"] == sum(e["phases"]["prepare"] for e in on_disk) >= 0.1
    assert totals["search"] >= 0.1 and totals["finals"] >= 0.05
    assert second.invocations == 2 and second.complete


def test_a_running_phase_is_on_disk_before_it_ends(tmp_path: Path) -> None:
    # an invocation killed mid-phase (no exit from the with-block) leaves its seconds so far
    path = tmp_path / "phases.json"
    ledger = PhaseLedger.open(path, resume=False, every=0.05)
    with ledger.phase("search"):
        time.sleep(0.4)
        written = entries(path)[-1]["phases"].get("search", 0.0)
    assert 0.2 <= written <= 0.45
    assert PhaseLedger.open(path, resume=True).totals()["search"] >= 0.4


def test_a_fresh_study_starts_a_new_ledger_and_a_lost_one_is_flagged(tmp_path: Path) -> None:
    path = tmp_path / "phases.json"
    with PhaseLedger.open(path, resume=False).phase("search"):
        pass
    fresh = PhaseLedger.open(path, resume=False)
    assert fresh.invocations == 1 and fresh.complete and len(entries(path)) == 1
    # resumed, but the earlier parts left no entry (run before the ledger existed, or the file lost)
    path.unlink()
    lost = PhaseLedger.open(path, resume=True)
    assert lost.invocations == 1 and not lost.complete
    path.write_text("not json")
    assert not PhaseLedger.open(path, resume=True).complete
