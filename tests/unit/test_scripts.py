"""Remote scripts are built from data with quoting; run them with a local bash to prove it."""

import hashlib
import subprocess
from pathlib import Path

from core.engine import scripts
from core.engine.plan import ReleasePaths
from core.transport.remote_script import upload_script


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


def test_list_and_remove_releases(tmp_path: Path):
    paths = ReleasePaths.of(str(tmp_path / "codes"), str(tmp_path / "prod"), "shop", "prod", "-")
    for name in ("shop-v1-20260101000000", "shop-v2-20260101000001"):
        (Path(paths.codes_dir) / name).mkdir(parents=True)
    listing = bash(scripts.list_releases(paths), tmp_path).stdout.splitlines()
    assert listing[0].strip() == "live" and sorted(listing[1:]) == [
        "shop-v1-20260101000000",
        "shop-v2-20260101000001",
    ]
    bash(scripts.remove_releases(paths, ["shop-v1-20260101000000"]), tmp_path)
    assert [p.name for p in Path(paths.codes_dir).iterdir()] == ["shop-v2-20260101000001"]


def test_clearing_uploads_keeps_only_the_current_release(tmp_path: Path):
    paths = ReleasePaths.of(str(tmp_path / "codes"), str(tmp_path / "prod"), "shop", "prod", "v2")
    uploads = Path(paths.staged).parent
    for name in ("v1.staged", "v1.meta", "v0.tar.gz", "v2.staged", "v2.meta"):
        (uploads / name).mkdir(parents=True)
    bash(scripts.list_releases(paths, clear_uploads=True), tmp_path)
    assert sorted(p.name for p in uploads.iterdir()) == ["v2.meta", "v2.staged"]
    bash(scripts.list_releases(paths), tmp_path)  # a plain listing changes nothing
    assert sorted(p.name for p in uploads.iterdir()) == ["v2.meta", "v2.staged"]
