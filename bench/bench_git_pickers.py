"""How fast the Slack pickers' git reads are on a big repository.

Builds a repository with 20,000 commits and 5,000 refs (2,500 branches, 1,250 annotated and
1,250 lightweight tags) with `git fast-import`, mirrors it with GitSource, then prints the
median of 5 runs of branches(), tags(), commits(branch, 50) and resolve(), in ms. Slack gives
an options load 3 s in all, so each should stay far below that.

    python bench/bench_git_pickers.py [--commits N] [--refs N]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from big_repo import build_repo, ref_names  # noqa: E402

from core.source.git import GitSource  # noqa: E402

RUNS = 5


async def median_ms(call: Callable[[], Awaitable[Any]]) -> tuple[float, Any]:
    """The median wall time of RUNS calls, in ms, and the last result."""
    times, result = [], None
    for _ in range(RUNS):
        started = time.perf_counter()
        result = await call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), result


async def run(commits: int, refs: int) -> None:
    with tempfile.TemporaryDirectory(prefix="hoist-bench-") as tmp:
        upstream = Path(tmp) / "upstream.git"
        started = time.perf_counter()
        build_repo(upstream, commits, refs)
        print(f"built {commits} commits, {refs} refs in {time.perf_counter() - started:.1f} s")
        source = GitSource(Path(tmp) / "mirrors")
        started = time.perf_counter()
        await source.ensure_mirror("bench", str(upstream))
        print(f"mirrored in {time.perf_counter() - started:.2f} s")
        checks: list[tuple[str, Callable[[], Awaitable[Any]]]] = [
            ("branches()", lambda: source.branches("bench")),
            ("tags()", lambda: source.tags("bench")),
            ("commits(branch, 50)", lambda: source.commits("bench", ref_names(2)[1], 50)),
            ("resolve(tag)", lambda: source.resolve("bench", ref_names(1)[1])),
            ("resolve(short sha)", lambda: source.resolve("bench", short)),
        ]
        short = (await source.resolve("bench", "main")).sha[:8]
        for name, call in checks:
            ms, result = await median_ms(call)
            size = f"{len(result)} items" if isinstance(result, list) else result.sha[:12]
            print(f"{name:<22} median {ms:7.1f} ms  ({size})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--commits", type=int, default=20_000)
    parser.add_argument("--refs", type=int, default=5_000)
    args = parser.parse_args()
    asyncio.run(run(args.commits, args.refs))


if __name__ == "__main__":
    main()
