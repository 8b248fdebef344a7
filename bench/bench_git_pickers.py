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
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.source.git import GitSource  # noqa: E402

EPOCH = 1_700_000_000
RUNS = 5


def _data(text: str) -> str:
    return f"data {len(text.encode())}\n{text}\n"


def _stream(commits: int, refs: int) -> Iterator[str]:
    """A fast-import stream: a linear main of `commits` commits, then `refs` refs on it."""
    for i in range(1, commits + 1):
        yield f"commit refs/heads/main\nmark :{i}\n"
        yield f"committer Bench <bench@example.com> {EPOCH + i * 60} +0000\n"
        yield _data(f"change {i}")
        yield f"M 644 inline src/f{i % 200}.txt\n" + _data(f"content {i}\n")
    for j in range(refs):
        mark = 1 + (j * 7919) % commits  # spread over history, not in creation order
        if j % 2 == 0:
            yield f"reset refs/heads/branch-{j}\nfrom :{mark}\n\n"
        elif j % 4 == 1:
            yield f"tag v{j}\nfrom :{mark}\n"
            yield f"tagger Bench <bench@example.com> {EPOCH + mark * 60 + 30} +0000\n"
            yield _data(f"release {j}")
        else:
            yield f"reset refs/tags/light-{j}\nfrom :{mark}\n\n"


def build_repo(path: Path, commits: int, refs: int) -> None:
    """Create the upstream repository at `path` (bare) in one fast-import run."""
    subprocess.run(["git", "init", "-q", "--bare", str(path)], check=True)
    stream = "".join(_stream(commits, refs)).encode()
    subprocess.run(
        ["git", "--git-dir", str(path), "fast-import", "--quiet"], input=stream, check=True
    )


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
            ("commits(branch, 50)", lambda: source.commits("bench", "branch-2", 50)),
            ("resolve(tag)", lambda: source.resolve("bench", "v1")),
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
