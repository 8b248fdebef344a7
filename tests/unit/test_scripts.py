"""Remote scripts are built from data with quoting; run them with a local bash to prove it."""

import hashlib
import shlex
import subprocess
from pathlib import Path

from core.engine import scripts
from core.engine.plan import ReleasePaths
from core.transport.remote_script import WRAPPER_COMMAND, payload, upload_script


def bash(script: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", "-s"], input=script, cwd=cwd, capture_output=True, text=True)


def test_switch_is_atomic_rename_over_the_old_link(tmp_path: Path):
    for name in ("r1", "r2"):
        (tmp_path / "codes" / name).mkdir(parents=True)
    link = tmp_path / "prod" / "shop"
    assert (
        bash(scripts.switch_link(str(link), str(tmp_path / "codes/r1")), tmp_path).returncode == 0
    )
    assert link.resolve().name == "r1"
    assert (
        bash(scripts.switch_link(str(link), str(tmp_path / "codes/r2")), tmp_path).returncode == 0
    )
    assert link.resolve().name == "r2"
    assert not (tmp_path / "prod" / "shop.hoist-tmp").exists()


def test_hostile_values_stay_data(tmp_path: Path):
    marker = tmp_path / "pwned"
    env = {"HOIST_REF": f"$(touch {marker})", "HOIST_NOTE": "it's `id`"}
    result = bash(scripts.hook('echo "$HOIST_REF|$HOIST_NOTE"', env, str(tmp_path)), tmp_path)
    assert result.stdout.strip() == f"$(touch {marker})|it's `id`"
    assert not marker.exists()


def test_switching_to_a_missing_release_exits_4(tmp_path: Path):
    paths = ReleasePaths.of(str(tmp_path / "codes"), str(tmp_path / "prod"), "shop", "prod", "gone")
    result = bash(scripts.install_and_switch(paths), tmp_path)
    assert result.returncode == 4 and "release not on this server" in result.stderr


def test_an_upload_with_the_wrong_checksum_is_removed(tmp_path: Path):
    target = tmp_path / "codes" / ".hoist-upload" / "v1.tar.gz"
    script = upload_script(str(target), "0" * 64)
    result = subprocess.run(["bash", "-c", script], input="damaged", capture_output=True, text=True)
    assert result.returncode == 3 and "checksum mismatch" in result.stderr
    assert list(target.parent.iterdir()) == []


def test_an_upload_with_the_right_checksum_lands(tmp_path: Path):
    target = tmp_path / "codes" / "v1.tar.gz"
    sha = hashlib.sha256(b"release").hexdigest()
    result = subprocess.run(
        ["bash", "-c", upload_script(str(target), sha)],
        input="release",
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0 and target.read_text() == "release"


def test_list_releases(tmp_path: Path):
    paths = ReleasePaths.of(str(tmp_path / "codes"), str(tmp_path / "prod"), "shop", "prod", "-")
    for name in ("shop-v1-20260101000000", "shop-v2-20260101000001"):
        (Path(paths.codes_dir) / name).mkdir(parents=True)
    listing = bash(scripts.list_releases(paths), tmp_path).stdout.splitlines()
    assert listing[0].strip() == "live" and sorted(listing[1:]) == [
        "shop-v1-20260101000000",
        "shop-v2-20260101000001",
    ]


def test_the_switch_removes_old_releases_but_never_the_one_it_left(tmp_path: Path):
    old = ["shop-v1-20260101000000", "shop-v2-20260101000001", "shop-v3-20260101000002"]
    paths = ReleasePaths.of(
        str(tmp_path / "codes"), str(tmp_path / "prod"), "shop", "prod", "shop-v4-20260101000003"
    )
    for name in [*old, paths.version]:
        (Path(paths.codes_dir) / name).mkdir(parents=True)
        Path(paths.manifest_dir(name)).mkdir(parents=True)
    live = ReleasePaths.of(str(tmp_path / "codes"), str(tmp_path / "prod"), "shop", "prod", old[2])
    assert bash(scripts.install_and_switch(live), tmp_path).returncode == 0

    result = bash(scripts.install_and_switch(paths, remove=[old[0], old[2]]), tmp_path)

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"{scripts.PREVIOUS}{live.release_dir}")
    left = sorted(p.name for p in Path(paths.codes_dir).iterdir() if not p.name.startswith("."))
    assert left == [old[1], old[2], paths.version]  # old[2] was live until now: kept
    assert sorted(p.name for p in Path(paths.manifests).iterdir()) == left


def wrapped(command: str, script: str) -> subprocess.CompletedProcess[bytes]:
    """`script` through the session wrapper, started as a login shell would (its own
    process group, or not, as `command` arranges)."""
    return subprocess.run(
        ["bash", "-c", command], input=payload(script, None), capture_output=True, timeout=30
    )


def test_the_wrapper_reports_its_process_group_and_runs_the_script():
    result = wrapped(f"exec setsid -w bash -c {shlex.quote(WRAPPER_COMMAND)}", "echo ran")
    first, second = result.stdout.decode().splitlines()
    assert result.returncode == 0 and second == "ran"
    assert first.startswith("__hoist_pgid__ ")  # the group a timeout kills


def test_the_wrapper_without_proc_goes_through_setsid_once():
    blind = WRAPPER_COMMAND.replace("/proc/$$/stat", "/nonexistent/$$/stat")
    assert blind != WRAPPER_COMMAND
    result = wrapped(blind, "echo ran; echo $__hoist_setsid")  # no loop: it ends
    assert result.returncode == 0
    assert result.stdout.decode().splitlines()[1:] == ["ran", "1"]
