"""Placement groups that outlive the Train run that asked for them, released between a study's phases.

A Tune trial that ends while its Ray Train run is still starting (Pareto-ASHA stops it, or the search
ends) takes its ``TrainController`` and the controller's ``PlacementGroupCleaner`` with it; the worker
group's placement group the controller had asked for can be granted a moment later, with nobody left
to remove it. Seen in a ``smoke`` study on 2 CPUs (Ray 2.60): a 1.99-CPU group was created 7 s after
its search trial's controller died, and the next phase's evaluation jobs (1 CPU each) waited on it
forever. Ray removes a job's placement groups only when the job ends, so raysweep removes them itself
where none can be in use: after a phase's ``Tuner.fit`` has returned, every placement group this
driver's job still holds belongs to a trial that has ended. Groups of other jobs (another study on a
shared cluster) are never touched. Without Ray's state API (no dashboard) nothing is released.
"""

from __future__ import annotations


def release_leaked_placement_groups() -> int:
    """Remove the placement groups this driver's job still holds (call it between phases, when no
    trial of the study runs) and return how many were removed."""
    import ray

    try:
        from ray._raylet import PlacementGroupID
        from ray.util.placement_group import PlacementGroup, remove_placement_group
        from ray.util.state import list_placement_groups

        job = ray.get_runtime_context().get_job_id()
        groups = list_placement_groups(
            filters=[("state", "=", "CREATED")], detail=True, limit=10_000, raise_on_missing_output=False
        )
    except Exception:  # noqa: BLE001 - no state API here (ray without its dashboard): leave them
        return 0
    leaked = [g for g in groups if g.creator_job_id == job]
    for group in leaked:
        remove_placement_group(PlacementGroup(PlacementGroupID.from_hex(group.placement_group_id)))
    return len(leaked)
