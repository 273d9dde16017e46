"""A real Python gRPC client (grpcio, stubs generated from proto/colony/v1 by grpcio-tools)
against a real `colony serve` process on an ephemeral port."""

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import grpc
import pytest

ROOT = Path(__file__).resolve().parents[2]
TASK_DIM = 14
AGENT_DIM = 22


def colony_binary() -> Path:
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    for profile in ("debug", "release"):
        candidate = target / profile / "colony"
        if candidate.exists():
            return candidate
    subprocess.run(["cargo", "build", "-q", "-p", "colony-cli"], cwd=ROOT, check=True)
    return target / "debug" / "colony"


@pytest.fixture(scope="module")
def stubs(tmp_path_factory):
    out = tmp_path_factory.mktemp("stubs")
    from grpc_tools import protoc

    args = [
        "protoc",
        f"-I{ROOT / 'proto'}",
        f"--python_out={out}",
        f"--grpc_python_out={out}",
        "colony/v1/coordination.proto",
        "colony/v1/experience.proto",
    ]
    assert protoc.main(args) == 0, "grpcio-tools failed to compile the protos"
    sys.path.insert(0, str(out))
    from colony.v1 import coordination_pb2, coordination_pb2_grpc  # noqa: E402
    from colony.v1 import experience_pb2, experience_pb2_grpc  # noqa: E402

    return coordination_pb2, coordination_pb2_grpc, experience_pb2, experience_pb2_grpc


@pytest.fixture(scope="module")
def server():
    data = tempfile.mkdtemp(prefix="colony-py-")
    proc = subprocess.Popen(
        [
            str(colony_binary()),
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--models",
            f"{data}/models",
            "--log",
            f"{data}/experience",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    line = proc.stdout.readline()
    match = re.search(r"serving on (\S+)", line)
    assert match, f"no address in {line!r}"
    yield match.group(1)
    proc.terminate()
    proc.wait(timeout=10)


def agent_row(speed: float, queue: int) -> list:
    row = [0.0] * AGENT_DIM
    row[1] = 1.0  # agent type: coder
    row[10] = speed  # est_speed
    row[11] = 0.9  # est_success
    row[12] = float(__import__("math").log1p(queue))  # ln1p(reported queue)
    row[14] = float(__import__("math").log1p(1))  # ln1p(concurrency = 1)
    row[15] = 1.0  # reported up
    return row


def route_request(pb, agents):
    task = [0.0] * TASK_DIM
    task[0] = 1.0
    task[10] = 1.386  # ln1p(size 3)
    features = [v for a in agents for v in agent_row(*a)]
    return pb.RouteRequest(
        task_id=5,
        task_features=task,
        agent_ids=list(range(100, 100 + len(agents))),
        agent_features=features,
        feature_width=AGENT_DIM,
    )


def test_route_ranks_the_candidates(stubs, server):
    pb, pb_grpc, _, _ = stubs
    with grpc.insecure_channel(server) as channel:
        stub = pb_grpc.CoordinationStub(channel)
        reply = stub.Route(route_request(pb, [(0.5, 0), (2.0, 0), (2.0, 8)]))
    assert reply.task_id == 5
    assert reply.heuristic and reply.answered_by == "heuristic:skill-greedy"
    assert list(reply.agent_ids)[0] == 101
    assert sorted(reply.agent_ids) == [100, 101, 102]
    assert list(reply.scores) == sorted(reply.scores, reverse=True)


def test_bad_input_gets_invalid_argument(stubs, server):
    pb, pb_grpc, _, _ = stubs
    with grpc.insecure_channel(server) as channel:
        stub = pb_grpc.CoordinationStub(channel)
        bad = route_request(pb, [(1.0, 0)])
        bad.agent_features[3] = float("nan")
        with pytest.raises(grpc.RpcError) as err:
            stub.Route(bad)
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "not finite" in err.value.details()
        empty = pb.RouteRequest(task_id=1, task_features=[0.0] * TASK_DIM, feature_width=AGENT_DIM)
        with pytest.raises(grpc.RpcError) as err:
            stub.Route(empty)
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "no candidate agents" in err.value.details()
        unknown = route_request(pb, [(1.0, 0)])
        unknown.model = "router@99"
        with pytest.raises(grpc.RpcError) as err:
            stub.Route(unknown)
        assert err.value.code() == grpc.StatusCode.NOT_FOUND


def test_report_appends_outcomes(stubs, server):
    pb, _, epb, epb_grpc = stubs
    req = route_request(pb, [(0.5, 0), (2.0, 0)])

    def reports():
        for i in range(5):
            yield epb.OutcomeReport(
                task_id=i,
                task_type="coding",
                task_size=3.0,
                priority=1,
                agent_id=101,
                kind=epb.OUTCOME_KIND_COMPLETED,
                time_s=10.0 + i,
                completion_s=2.0,
                service_s=1.0,
                task_features=req.task_features,
                candidate_ids=req.agent_ids,
                candidate_features=req.agent_features,
                feature_width=AGENT_DIM,
                chosen=1,
                policy="python-client",
            )
        yield epb.OutcomeReport(task_id=9, task_type="juggling", kind=epb.OUTCOME_KIND_COMPLETED)

    with grpc.insecure_channel(server) as channel:
        summary = epb_grpc.ExperienceStub(channel).Report(reports())
    assert summary.accepted == 5
    assert summary.rejected == 1
    assert "report 5" in summary.errors[0] and "juggling" in summary.errors[0]
