"""`python -m bench`: every benchmark against the fake fal cloud, each beside its baseline.

`--smoke` runs a short version of each (CI: it must finish and print the table;
speed is not judged there). Without it, a missed target exits non-zero.
`--only bombs` (or `replicas`) runs one figure (with or without `--smoke`).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from bench import bombs, crowd, fake, inputs, latency, page, process, replicas
from bench.table import Row, render
from tests.apprunner import running_app


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="short runs; never fails on speed")
    parser.add_argument("--only", choices=["bombs", "page", "replicas"],
                        help="run only this figure")
    args = parser.parse_args()
    smoke = args.smoke
    began = time.perf_counter()
    cloud = fake.start()
    os.environ.update(cloud.env)  # bare fal-client baselines reach the fake as the app does
    try:
        with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
            if args.only == "bombs":
                rows = bombs.run(cloud, Path(tmp), smoke=smoke)
            elif args.only == "page":
                rows = page_rows(cloud, Path(tmp), smoke=smoke)
            elif args.only == "replicas":
                rows = replicas.run(cloud, Path(tmp), smoke=smoke)
            else:
                rows = every_figure(cloud, Path(tmp), smoke=smoke)
    finally:
        cloud.stop()
    print(render(rows))
    print(f"\n{'smoke ' if smoke else ''}run took {time.perf_counter() - began:.0f} s")
    return 0 if smoke or all(r.passed is not False for r in rows) else 1


def every_figure(cloud: fake.Fake, work: Path, *, smoke: bool) -> list[Row]:
    rows: list[Row] = []
    crowd_rows, rate = crowd.run(cloud, work, job_seconds=1.0 if smoke else 5.0,
                                 sizes=[4] if smoke else [32, 64],
                                 baseline_clients=2 if smoke else 4,
                                 runs=1 if smoke else 3)
    rows += crowd_rows
    with running_app(cloud.env, work / "latency") as app:
        rows += latency.run(cloud, app.url, seconds=2.0 if smoke else 6.0,
                            lines=3 if smoke else 6, jobs=2 if smoke else 6,
                            app_rate=rate)
        rows.append(inputs.parallel_uploads(cloud, app.url, 0.5))
    rows += inputs.prepare(work, 2 if smoke else 5)
    rows.append(process.startup(work, 1 if smoke else 3))
    rows.append(process.memory(cloud, work, 8 if smoke else 32))
    rows += bombs.run(cloud, work, smoke=smoke)
    rows += page_rows(cloud, work, smoke=smoke)
    rows += replicas.run(cloud, work, smoke=smoke)
    return rows


def page_rows(cloud: fake.Fake, work: Path, *, smoke: bool) -> list[Row]:
    return page.run(cloud, work, runs=1 if smoke else 5, sessions=20 if smoke else 200)


if __name__ == "__main__":
    sys.exit(main())
