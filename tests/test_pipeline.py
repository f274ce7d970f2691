"""The pipeline's pieces: the one ASL file, the in-process Lambda adapter, exactly-once starts, failure
reasons, and the Rekognition backend running through the real state machine with a stubbed client."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from botocore.stub import ANY, Stubber

import app as app_module
from chalicelib.engine.video import probe, sample_times
from chalicelib.failures import FAILURE_CODES, failure_reason
from chalicelib.pipeline import definition
from chalicelib.pipeline.steps import TransientError
from devstack.lambda_adapter import InProcessLambdas
from devstack.stack import UPLOAD_HANDLER, LocalStack
from tests.api_client import Account, Api
from tests.synthetic import VIDEOS_DIR
from tests.test_rekognition import emotions, face_detail

VIDEO = VIDEOS_DIR / "openmpf_face_video_01.mp4"  # 3 s, one face


def test_the_asl_file_names_only_handlers_that_exist_in_app() -> None:
    asl = json.loads(definition.ASL_PATH.read_text())
    assert definition.placeholders() == set(definition.FUNCTIONS)
    registered = {f.name for f in app_module.app.pure_lambda_functions}
    assert set(definition.FUNCTIONS.values()) <= registered
    assert set(asl["States"]) == {"Probe", "AnalyzeSegments", "Merge", "MarkFailed", "Failed", "Gone"}
    caught = {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "MarkFailed"}
    for name in ("Probe", "AnalyzeSegments", "Merge"):
        state = asl["States"][name]
        assert state["Catch"] == [{"ErrorEquals": ["VideoGone"], "Next": "Gone"}, caught]
    assert asl["TimeoutSeconds"] > 0
    assert all(asl["States"][n]["TimeoutSeconds"] > 0 for n in ("Probe", "Merge", "MarkFailed"))
    segment = asl["States"]["AnalyzeSegments"]["ItemProcessor"]["States"]["AnalyzeSegment"]
    for retried in (asl["States"]["Probe"], segment, asl["States"]["Merge"]):
        assert (
            TransientError.__name__ in retried["Retry"][0]["ErrorEquals"]
            and retried["Retry"][0]["BackoffRate"] > 1
        )
    assert asl["States"]["AnalyzeSegments"]["MaxConcurrencyPath"] == "$.plan.max_concurrency"
    rendered = json.loads(definition.render({k: f"arn:{k}" for k in definition.FUNCTIONS}))
    assert rendered["States"]["Probe"]["Resource"] == "arn:probe_function_arn"
    with pytest.raises(KeyError, match="merge_function_arn"):
        definition.render({k: "arn" for k in definition.FUNCTIONS if k != "merge_function_arn"})


def test_the_lambda_adapter_returns_results_and_runtime_shaped_errors() -> None:
    def ok(event: dict, context: Any) -> dict:
        return {"echo": event["x"], "function": context.function_name}

    def broken(event: dict, context: Any) -> dict:
        raise TransientError("redis went away")

    adapter = InProcessLambdas({"ok": ok, "broken": broken})
    payload, errored, _ = adapter.invoke("ok", "arn:ok", json.dumps({"x": 1}))
    assert not errored and json.loads(payload) == {"echo": 1, "function": "ok"}
    payload, errored, logs = adapter.invoke("broken", "arn:broken", "{}")
    error = json.loads(payload)
    assert errored and error["errorType"] == "TransientError" and error["errorMessage"] == "redis went away"
    assert "redis went away" in logs
    payload, errored, _ = adapter.invoke("missing", "arn:missing", "{}")
    assert errored and json.loads(payload)["errorType"] == "ResourceNotFoundException"
    assert adapter.calls == ["ok", "broken"]


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (
            {"Error": "VideoError", "Cause": json.dumps({"errorMessage": "the video: not a video"})},
            "not a video",
        ),
        ({"Error": "States.Timeout", "Cause": ""}, "out of time or memory"),
        ({"Error": "Sandbox.Timedout", "Cause": ""}, "out of time or memory"),
        ({"Error": "Runtime.ExitError", "Cause": ""}, "out of time or memory"),
        (
            {"Error": "ClientError", "Cause": json.dumps({"errorMessage": "arn:aws:sts::secret internals"})},
            "AWS service refused",
        ),
        ({"Error": "TransientError", "Cause": "{}"}, "unavailable; try again"),
        (
            {"Error": "KeyError", "Cause": json.dumps({"errorMessage": "'secret internals'"})},
            "failed unexpectedly",
        ),
        (None, "failed unexpectedly"),
    ],
)
def test_failure_reasons_are_for_people(error: dict | None, expected: str) -> None:
    code, reason = failure_reason(error)
    assert expected in reason and "secret internals" not in reason
    assert code in FAILURE_CODES


def _executions(stack: LocalStack, video_id: str) -> list[dict]:
    listed = stack.client("stepfunctions").list_executions(stateMachineArn=stack.state_machine_arn)
    return [e for e in listed["executions"] if e["name"].startswith(video_id)]


def _s3_event(stack: LocalStack, key: str, sequencer: str) -> dict:
    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": "us-east-1",
                "eventTime": "2026-11-30T12:00:00.000Z",
                "eventName": "ObjectCreated:Post",
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "configurationId": "uploads",
                    "bucket": {"name": stack.bucket, "arn": f"arn:aws:s3:::{stack.bucket}"},
                    "object": {"key": key, "size": VIDEO.stat().st_size, "eTag": "0", "sequencer": sequencer},
                },
            }
        ]
    }


def _deliver(stack: LocalStack, event: dict) -> None:
    """Invoke the upload handler as S3 would; it must not fail (a refused key is handled, not an error)."""
    answer = stack.client("lambda").invoke(FunctionName=UPLOAD_HANDLER, Payload=json.dumps(event))
    assert "FunctionError" not in answer, answer["Payload"].read().decode()


def test_a_duplicated_s3_event_starts_one_execution(api: Api, account: Account, stack: LocalStack) -> None:
    created = api.create_video(account, VIDEO)
    video_id, key = created["video"]["id"], created["upload"]["fields"]["key"]
    assert api.post_upload(created, VIDEO).status_code in (200, 204)  # S3 sends its event
    # S3's own notification queued it, not the watchdog (which waits EMOTIONFY_WATCHDOG_STALE_SECONDS)
    deadline = time.monotonic() + 10
    while api.call("GET", f"/videos/{video_id}", account).json()["status"] == "pending_upload":
        assert time.monotonic() < deadline, "the upload's S3 event was not handled"
        time.sleep(0.1)
    # S3 delivers at least once: the same record again, three times, while the analysis runs
    for _ in range(3):
        _deliver(stack, _s3_event(stack, key, "0055AED6DCD90281E5"))
    video = api.wait(account, video_id)
    assert video["status"] == "done", video.get("error")
    assert len(_executions(stack, video_id)) == 1
    from chalicelib.deps import deps
    from chalicelib.pipeline.start import IDEMPOTENCY_PREFIX

    assert deps().redis.keys(f"{IDEMPOTENCY_PREFIX}#*"), "Powertools recorded the handled S3 records in Redis"
    assert video["progress"]["done"] == video["progress"]["total"] == 1


def test_an_event_for_an_unknown_or_foreign_key_starts_nothing(
    api: Api, account: Account, stack: LocalStack
) -> None:
    other = api.new_account()
    created = api.create_video(other, VIDEO)
    video_id = created["video"]["id"]
    forged = f"uploads/{account.user_id}/{video_id}/{VIDEO.name}"  # someone else's video id under my prefix
    for key in (forged, "uploads/../../etc/passwd", f"uploads/{account.user_id}/{'0' * 32}/x.mp4"):
        _deliver(stack, _s3_event(stack, key, f"seq-{key}"))
    time.sleep(0.5)
    assert _executions(stack, video_id) == []
    assert api.call("GET", f"/videos/{video_id}", other).json()["status"] == "pending_upload"


def test_the_rekognition_backend_runs_through_the_state_machine(api: Api, account: Account) -> None:
    from chalicelib.deps import deps

    client = deps()._client("rekognition")
    happy = face_detail(0.3, 0.2, 0.35, 0.5, emotions(HAPPY=92.0, CALM=4.0, CONFUSED=4.0))
    with Stubber(client) as stub:
        for _ in sample_times(0.0, probe(VIDEO).duration, 1.0):  # the Rekognition rate: 1 frame per second
            stub.add_response(
                "detect_faces",
                {"FaceDetails": [happy]},
                expected_params={"Image": ANY, "Attributes": ["ALL"]},
            )
        deps().__dict__["rekognition"] = client
        try:
            video_id = api.upload(account, VIDEO, backend="rekognition")
            video = api.wait(account, video_id)
        finally:
            del deps().__dict__["rekognition"]
        stub.assert_no_pending_responses()
    assert video["status"] == "done", video.get("error")
    assert video["backend"] == "rekognition" and video["summary"]["dominant"] == "happy"
    analysis = api.call("GET", f"/videos/{video_id}/results", account).json()
    assert analysis["model"]["backend"] == "rekognition"
    assert analysis["timeline"][0]["extra"]["confused"] == pytest.approx(0.04)
