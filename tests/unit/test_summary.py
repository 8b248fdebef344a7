"""What a release sent and where its time went, in the words every surface shows."""

from __future__ import annotations

from core.engine.summary import (
    NodeFacts,
    stage_timings,
    timing_text,
    transfer_text,
    transfers,
)


def upload(server: str, transfer: str, files: int, size: int, seconds: float = 0.4) -> NodeFacts:
    return NodeFacts("upload", server, "succeeded", seconds, size, files, transfer)


def deploy(server: str, seconds: float = 0.1, status: str = "succeeded") -> NodeFacts:
    return NodeFacts("deploy", server, status, seconds)


def test_nothing_is_said_before_an_upload_finished() -> None:
    running = NodeFacts("upload", "web1", "running")
    assert transfers([running, NodeFacts("package", "", "succeeded", 0.8)]) is None


def test_a_fleet_of_deltas_reads_as_one_line() -> None:
    nodes = [upload(f"web{i}", "delta", 3, 14_200) for i in range(50)]
    nodes += [deploy(f"web{i}", 0.1 * (i == 7) + 0.2) for i in range(50)]
    assert transfer_text(transfers(nodes)) == (  # type: ignore[arg-type]
        "3 files, 14.2 kB to 50 servers · 710.0 kB in all · 0.7 s"
    )


def test_servers_sent_the_whole_release_beside_deltas_are_named() -> None:
    nodes = [upload("web1", "delta", 2, 9_000), upload("web2", "delta", 5, 20_000)]
    nodes += [upload(f"new{i}", "full", 0, 12_000_000) for i in range(5)]
    found = transfers(nodes)
    assert found is not None and found.total == 60_029_000
    assert transfer_text(found, lambda name: f"`{name}`") == (
        "2–5 files, 9.0 kB–20.0 kB to 2 servers · whole release (12.0 MB) to 5 servers: "
        "`new0`, `new1`, `new2` and 2 more · 60.0 MB in all · 0.4 s"
    )


def test_a_first_release_does_not_list_every_server() -> None:
    nodes = [upload(f"web{i}", "full", 0, 1_500_000) for i in range(3)]
    assert transfer_text(transfers(nodes)) == (  # type: ignore[arg-type]
        "whole release (1.5 MB) to 3 servers · 4.5 MB in all · 0.4 s"
    )


def test_a_rollback_that_found_its_release_sent_nothing() -> None:
    nodes = [upload("web1", "none", 0, 0), upload("web2", "full", 0, 1_000)]
    assert transfer_text(transfers(nodes)) == (  # type: ignore[arg-type]
        "whole release (1.0 kB) to 1 server · already on 1 server · 1.0 kB in all · 0.4 s"
    )


def test_failed_uploads_are_not_counted_as_sent() -> None:
    failed = NodeFacts("upload", "web2", "failed", 0.3, 0, 0, "")
    found = transfers([upload("web1", "delta", 1, 500), failed])
    assert found is not None and list(found.delta) == ["web1"] and not found.full


def test_stage_timings_give_the_median_and_the_slowest_in_pipeline_order() -> None:
    nodes = [
        deploy("web1", 0.1),
        deploy("web2", 0.1),
        deploy("web3", 2.5),
        NodeFacts("package", "", "succeeded", 0.8),
        upload("web1", "delta", 1, 10),
        NodeFacts("post_deploy", "web1", "running", None),
        deploy("web4", 9.0, status="skipped"),
    ]
    timings = stage_timings(nodes)
    assert [(t.stage, t.nodes, t.median, t.slowest) for t in timings] == [
        ("package", 1, 0.8, 0.8),
        ("upload", 1, 0.4, 0.4),
        ("deploy", 3, 0.1, 2.5),
    ]
    assert timing_text(timings) == "package 0.8 s · upload 0.4 s · deploy 0.1 s (slowest 2.5 s)"


def test_one_file_is_one_file() -> None:
    nodes = [upload("web1", "delta", 1, 1_200), upload("web2", "delta", 1, 1_200)]
    assert transfer_text(transfers(nodes)).startswith("1 file, 1.2 kB to 2 servers")  # type: ignore[arg-type]
