"""A large repository for benchmarks, built in one `git fast-import` run."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

EPOCH = 1_700_000_000


def _data(text: str) -> str:
    return f"data {len(text.encode())}\n{text}\n"


def ref_names(j: int) -> tuple[str, str]:
    """The kind ("branch", "tag", "light") and name of the j-th extra ref."""
    if j % 2 == 0:
        return "branch", (f"feat/change-{j}" if j % 4 == 0 else f"fix/bug-{j}")
    if j % 4 == 1:
        return "tag", f"v1.{j}.0"
    return "light", f"build-{j}"


def _stream(commits: int, refs: int) -> Iterator[str]:
    """A linear `main` of `commits` commits, then `refs` branches and tags spread over it."""
    for i in range(1, commits + 1):
        yield f"commit refs/heads/main\nmark :{i}\n"
        yield f"committer Bench <bench@example.com> {EPOCH + i * 60} +0000\n"
        yield _data(f"change {i}")
        yield f"M 644 inline src/f{i % 200}.txt\n" + _data(f"content {i}\n")
    for j in range(refs):
        mark = 1 + (j * 7919) % commits  # spread over history, not in creation order
        kind, name = ref_names(j)
        if kind == "branch":
            yield f"reset refs/heads/{name}\nfrom :{mark}\n\n"
        elif kind == "tag":
            yield f"tag {name}\nfrom :{mark}\n"
            yield f"tagger Bench <bench@example.com> {EPOCH + mark * 60 + 30} +0000\n"
            yield _data(f"release {name}")
        else:
            yield f"reset refs/tags/{name}\nfrom :{mark}\n\n"


def build_repo(path: Path, commits: int, refs: int) -> None:
    """A bare repository at `path`: `commits` commits on main and `refs` branches and tags."""
    subprocess.run(["git", "init", "-q", "--bare", str(path)], check=True)
    stream = "".join(_stream(commits, refs)).encode()
    subprocess.run(
        ["git", "--git-dir", str(path), "fast-import", "--quiet"], input=stream, check=True
    )
