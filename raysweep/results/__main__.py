"""``python -m raysweep.results --storage PATH --name NAME``: rebuild a study's results (leaderboard,
trials, comparison.md, plots) from its storage, finished or partial, without running anything.

``python -m raysweep.results --records results/NAME/records``: the same from the study's slim export
(JSON trials and per-example evaluation outputs, no weights, no Ray): how a committed study's tables
are checked on another machine."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from raysweep.errors import RaysweepError, cli_errors
from raysweep.storage import check_name, check_path


@cli_errors
def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m raysweep.results", description=__doc__)
    p.add_argument("--storage", default=None, help="the study's storage (as given to raysweep.run --storage)")
    p.add_argument("--records", default=None, help="a study's slim export (results/NAME/records), instead of --storage")
    p.add_argument("--name", default=None, help="study name (default: the only study in --storage)")
    p.add_argument("--space", default=None, help="search space name or file (default: recorded with the study)")
    p.add_argument("--results-dir", default="results")
    args = p.parse_args(argv)
    if (args.storage is None) == (args.records is None):
        raise RaysweepError("give one of --storage (the study's Ray storage) or --records (results/NAME/records)")
    if args.records is not None:
        return rebuild_from_records(Path(check_path(args.records, "--records")), args)

    from raysweep.train.launch import absolute_storage
    from raysweep.tune.record import read_study_record
    from raysweep.tune.space import load_space

    storage = absolute_storage(check_path(args.storage, "--storage"))
    check_path(args.results_dir, "--results-dir")
    name = None if args.name is None else check_name(args.name)
    if name is None:
        studies = (
            [d.name for d in Path(storage).iterdir() if (d / "raysweep-study.json").is_file()]
            if Path(storage).is_dir()
            else []
        )
        if len(studies) != 1:
            raise RaysweepError(f"--storage {storage} holds {len(studies)} studies ({', '.join(studies)}); pass --name")
        name = studies[0]
    record = read_study_record(f"{storage}/{name}")
    space = load_space(args.space or record["space_path"], record.get("overrides"))
    from raysweep.results.writer import write_results

    written = write_results(f"{storage}/{name}", Path(args.results_dir), name, space.base, space.study.metric)
    for key, path in written.items():
        print(f"{key:<28} {path}")
    return 0


def rebuild_from_records(folder: Path, args: argparse.Namespace) -> int:
    """The tables of the study whose export is ``folder`` (``results/NAME/records``): its name is the one
    its ``study.json`` records (else the folder above's), its space that folder's ``space.yaml`` unless
    ``--space`` names one."""
    from raysweep.results.study_records import from_export
    from raysweep.results.writer import write_results
    from raysweep.tune.space import load_space

    study_dir = folder.resolve().parent
    try:  # the study's own name (its tables carry it), else the folder's
        recorded = json.loads((study_dir / "study.json").read_text(encoding="utf-8")).get("study")
    except (OSError, ValueError, AttributeError):
        recorded = None
    name = check_name(args.name or recorded or study_dir.name)
    space_path = args.space or str(study_dir / "space.yaml")
    if args.space is None and not Path(space_path).is_file():
        raise RaysweepError(f"{space_path} is missing, so the study's space is unknown; pass --space")
    space = load_space(space_path)
    records = from_export(folder)
    written = write_results("", Path(args.results_dir), name, space.base, space.study.metric, records=records)
    for key, path in written.items():
        print(f"{key:<28} {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
