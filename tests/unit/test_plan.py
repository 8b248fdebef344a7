from datetime import datetime

from core.engine.plan import (
    NodeKey,
    ReleasePaths,
    batches,
    nodes_to_retry,
    plan_nodes,
    releases_to_remove,
    rollback_nodes,
    version_name,
    version_order,
)
from core.status import Stage


def test_version_names_follow_the_release_flow():
    assert version_name("shop", 12, datetime(2026, 1, 2, 3, 4, 5)) == "shop-v12-20260102030405"


def test_versions_sort_by_task_number_not_text():
    names = ["shop-v9-20260101000000", "shop-v10-20260102000000", "legacy"]
    assert sorted(names, key=version_order) == [
        "legacy",
        "shop-v9-20260101000000",
        "shop-v10-20260102000000",
    ]


def test_release_paths_match_the_original_layout():
    paths = ReleasePaths.of("/data/codes", "/data/prod/", "shop", "prod", "shop-v1-20260101000000")
    assert paths.release_dir == "/data/codes/shop/prod/shop-v1-20260101000000"
    assert paths.link == "/data/prod/shop"
    assert paths.staged == "/data/codes/shop/prod/.hoist-upload/shop-v1-20260101000000.staged"
    assert paths.manifest_dir(paths.version) == (
        "/data/codes/shop/prod/.hoist-manifests/shop-v1-20260101000000"
    )


def test_plan_has_five_local_and_four_server_stages():
    nodes = plan_nodes(["a", "b"])
    assert len(nodes) == 5 + 2 * 4
    assert nodes[5] == NodeKey(Stage.UPLOAD, "a") and nodes[-1] == NodeKey(Stage.POST_DEPLOY, "b")
    assert [n.stage for n in rollback_nodes(["a"])] == [
        Stage.START,
        Stage.UPLOAD,
        Stage.DEPLOY,
        Stage.POST_DEPLOY,
    ]


def test_retry_runs_each_chain_from_its_first_unfinished_node():
    done = {key: True for key in plan_nodes(["a", "b"])}
    done[NodeKey(Stage.POST_DEPLOY, "a")] = False
    done[NodeKey(Stage.DEPLOY, "b")] = False
    done[NodeKey(Stage.POST_DEPLOY, "b")] = False
    assert nodes_to_retry(done) == {
        NodeKey(Stage.POST_DEPLOY, "a"),
        NodeKey(Stage.DEPLOY, "b"),
        NodeKey(Stage.POST_DEPLOY, "b"),
    }
    assert nodes_to_retry({key: True for key in done}) == set()


def test_batches():
    assert batches(["a", "b", "c"], 0) == [["a", "b", "c"]]
    assert batches(["a", "b", "c"], 2) == [["a", "b"], ["c"]]
    assert batches([], 2) == []


def test_cleanup_keeps_the_newest_and_never_the_live_or_previous():
    names = [f"shop-v{n}-2026010100000{n}" for n in range(1, 8)]
    doomed = releases_to_remove(names, 3, live=names[1], previous=names[0])
    assert doomed == [names[3], names[2]]
