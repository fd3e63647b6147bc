"""``python -m raysweep.results --storage PATH --name NAME``: rebuild a study's results (leaderboard,
trials, comparison.md, plots) from its storage, finished or partial, without running anything."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from raysweep.errors import RaysweepError, cli_errors
from raysweep.storage import check_name, check_path


@cli_errors
def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m raysweep.results", description=__doc__)
    p.add_argument("--storage", required=True, help="the study's storage (as given to raysweep.run --storage)")
    p.add_argument("--name", default=None, help="study name (default: the only study in --storage)")
    p.add_argument("--space", default=None, help="search space name or file (default: recorded with the study)")
    p.add_argument("--results-dir", default="results")
    args = p.parse_args(argv)

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


if __name__ == "__main__":
    sys.exit(main())
