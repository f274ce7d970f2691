"""The Rekognition backend on a real fixture video, with botocore's Stubber standing in for the API.

No emulator implements DetectFaces, so a real boto3 client is stubbed: the Stubber validates our request
against the service model and every canned response against the response model, and fails on any call
we did not plan for. The canned FaceDetails have the shape of recorded DetectFaces responses.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import cv2
import numpy as np
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from chalicelib.engine.labels import LABELS
from chalicelib.engine.merge import merge
from chalicelib.engine.rekognition import (
    MAX_IMAGE_BYTES,
    MAX_SIDE,
    analyze_segment_rekognition,
    emotion_probabilities,
    encode_jpeg,
    pixel_box,
)
from chalicelib.engine.segment import SegmentResult
from chalicelib.engine.video import probe
from tests.synthetic import Interval, Scene, write_video

#: A short clip with one face in every frame (512x512).
SINGLE_FACE = "liveportrait_driving_d3.mp4"
EMOTION_TYPES = ("HAPPY", "SAD", "ANGRY", "CONFUSED", "DISGUSTED", "SURPRISED", "CALM", "FEAR")


class JpegBytes:
    """Matches image bytes that are a JPEG within the API's size limit, and keeps each one it matched."""

    def __init__(self) -> None:
        self.seen: list[bytes] = []

    def __eq__(self, other: object) -> bool:
        if isinstance(other, bytes) and other.startswith(b"\xff\xd8\xff") and len(other) <= MAX_IMAGE_BYTES:
            self.seen.append(other)
            return True
        return False

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return "<JPEG bytes>"


def emotions(**confidence: float) -> list[dict[str, Any]]:
    """All 8 emotion types, as Rekognition returns them (highest confidence first); unnamed ones get 0.1."""
    rows = [{"Type": kind, "Confidence": confidence.get(kind, 0.1)} for kind in EMOTION_TYPES]
    return sorted(rows, key=lambda row: -row["Confidence"])


def face_detail(
    left: float,
    top: float,
    width: float,
    height: float,
    feelings: list[dict[str, Any]],
    confidence: float = 99.99,
) -> dict[str, Any]:
    """One FaceDetail of a DetectFaces response with Attributes=["ALL"]."""

    def mark(kind: str, dx: float, dy: float) -> dict[str, Any]:
        return {"Type": kind, "X": left + dx * width, "Y": top + dy * height}

    return {
        "BoundingBox": {"Width": width, "Height": height, "Left": left, "Top": top},
        "AgeRange": {"Low": 22, "High": 30},
        "Smile": {"Value": False, "Confidence": 91.23},
        "Eyeglasses": {"Value": False, "Confidence": 99.71},
        "Sunglasses": {"Value": False, "Confidence": 99.98},
        "Gender": {"Value": "Female", "Confidence": 99.85},
        "Beard": {"Value": False, "Confidence": 98.42},
        "Mustache": {"Value": False, "Confidence": 99.56},
        "EyesOpen": {"Value": True, "Confidence": 97.64},
        "MouthOpen": {"Value": False, "Confidence": 88.3},
        "Emotions": feelings,
        "Landmarks": [
            mark("eyeLeft", 0.31, 0.38),
            mark("eyeRight", 0.69, 0.38),
            mark("mouthLeft", 0.36, 0.76),
            mark("mouthRight", 0.64, 0.76),
            mark("nose", 0.5, 0.58),
        ],
        "Pose": {"Roll": -2.71, "Yaw": 4.12, "Pitch": 6.88},
        "Quality": {"Brightness": 71.35, "Sharpness": 83.14},
        "Confidence": confidence,
        "FaceOccluded": {"Value": False, "Confidence": 99.12},
        "EyeDirection": {"Yaw": 1.93, "Pitch": -5.4, "Confidence": 99.47},
    }


@pytest.fixture
def client() -> Any:
    return boto3.client(
        "rekognition", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )


@pytest.fixture
def stubber(client: Any) -> Iterator[Stubber]:
    with Stubber(client) as stub:
        yield stub
        stub.assert_no_pending_responses()  # every planned call was made


@pytest.fixture
def video(fixtures_dir: Path) -> Path:
    return fixtures_dir / "videos" / SINGLE_FACE


def expect_call(stubber: Stubber, image: JpegBytes, faces: list[dict[str, Any]]) -> None:
    params = {"Image": {"Bytes": image}, "Attributes": ["ALL"]}
    stubber.add_response("detect_faces", {"FaceDetails": faces}, expected_params=params)


def decode(data: bytes) -> np.ndarray:
    """The picture sent to the API."""
    picture = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    assert picture is not None, "not a decodable JPEG"
    return picture


def p_of(feelings: list[dict[str, Any]]) -> list[float]:
    return [round(v, 5) for v in emotion_probabilities(feelings)[0]]


# 1. mapping


def test_emotions_map_onto_the_seven_labels_and_confused_is_kept_apart() -> None:
    probs, extra = emotion_probabilities(emotions(HAPPY=90.0, CALM=5.0, CONFUSED=5.0, SAD=0.5, ANGRY=0.5))
    assert len(probs) == len(LABELS)
    assert sum(probs) == pytest.approx(1.0)
    assert LABELS[int(np.argmax(probs))] == "happy"
    # 7-label confidences: 90 + 5 + 0.5 * 2 + 0.1 * 3; CONFUSED is not among them.
    assert probs[LABELS.index("happy")] == pytest.approx(90.0 / 96.3)
    assert probs[LABELS.index("neutral")] == pytest.approx(5.0 / 96.3)
    assert extra == {"confused": pytest.approx(0.05)}


def test_calm_is_neutral_and_no_signal_is_neutral_not_uniform() -> None:
    probs, extra = emotion_probabilities(
        [{"Type": "CALM", "Confidence": 97.0}, {"Type": "UNKNOWN", "Confidence": 60.0}]
    )
    assert probs == [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0]
    assert extra == {"confused": 0.0}
    zero, zero_extra = emotion_probabilities([{"Type": kind, "Confidence": 0.0} for kind in EMOTION_TYPES])
    assert zero == [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0]
    assert zero_extra == {"confused": 0.0}
    assert emotion_probabilities([])[0][LABELS.index("neutral")] == 1.0
    surprised, _ = emotion_probabilities([{"Type": "SURPRISED", "Confidence": 80.0}])
    assert surprised[LABELS.index("surprise")] == 1.0


def test_boxes_are_clipped_to_the_frame() -> None:
    assert pixel_box({"Left": 0.25, "Top": 0.1, "Width": 0.5, "Height": 0.4}, 640, 480) == (160, 48, 320, 192)
    assert pixel_box({"Left": -0.1, "Top": 0.8, "Width": 0.3, "Height": 0.3}, 640, 480) == (0, 384, 128, 96)
    assert pixel_box({"Left": 1.02, "Top": 0.1, "Width": 0.2, "Height": 0.2}, 640, 480) is None


def test_large_frames_are_downscaled_and_stay_under_the_size_limit() -> None:
    noise = np.random.default_rng(0).integers(0, 256, (3000, 4000, 3), dtype=np.uint8)  # worst case for JPEG
    data = encode_jpeg(noise)
    assert data.startswith(b"\xff\xd8\xff") and len(data) < MAX_IMAGE_BYTES
    decoded = decode(data)
    assert decoded.shape == (960, MAX_SIDE, 3)


# 2. a real clip


def test_a_stretch_of_the_clip_is_one_track_in_frame_pixels(
    stubber: Stubber, client: Any, video: Path
) -> None:
    info = probe(video)
    image = JpegBytes()
    feelings = [
        emotions(HAPPY=93.1, CALM=4.2, CONFUSED=1.1),
        emotions(SURPRISED=71.4, FEAR=12.5, CONFUSED=8.3, CALM=6.0),
        emotions(CALM=88.0, SAD=6.5, CONFUSED=3.2),
    ]
    for i, feeling in enumerate(feelings):
        expect_call(stubber, image, [face_detail(0.25 + 0.01 * i, 0.2, 0.5, 0.6, feeling)])

    result = analyze_segment_rekognition(video, 0.0, 3.0, client, sample_fps=1.0)

    assert len(image.seen) == 3
    first = decode(image.seen[0])
    assert first.shape[:2] == (info.height, info.width)  # no downscale below 1280 px
    assert result.samples == [(0.0, 1), (1.0, 1), (2.0, 1)]
    assert len(result.tracks) == 1
    points = result.tracks[0]["points"]
    assert [p["t"] for p in points] == [0.0, 1.0, 2.0]
    x, y, w, h = points[0]["box"]
    assert x == pytest.approx(0.25 * info.width, abs=1) and w == pytest.approx(0.5 * info.width, abs=1)
    assert y == pytest.approx(0.2 * info.height, abs=1) and h == pytest.approx(0.6 * info.height, abs=1)
    assert points[2]["box"][0] == pytest.approx(0.27 * info.width, abs=1)
    assert [p["p"] for p in points] == [p_of(f) for f in feelings]
    assert [LABELS[int(np.argmax(p["p"]))] for p in points] == ["happy", "surprise", "neutral"]
    assert [p["x"] for p in points] == [{"confused": 0.011}, {"confused": 0.083}, {"confused": 0.032}]
    assert result.model == {
        "backend": "rekognition",
        "version": "rekognition-detectfaces/1",
        "detector": "rekognition",
    }
    assert set(result.timings) == {"decode", "detect", "total"}
    assert SegmentResult.from_dict(result.to_dict()) == result


def test_boxes_of_a_downscaled_frame_map_back_to_the_original_size(
    stubber: Stubber, client: Any, tmp_path: Path
) -> None:
    path = write_video(Scene([Interval(2.0)], width=1920, height=1080, fps=5), tmp_path / "large.mp4")
    image = JpegBytes()
    for _ in range(2):
        expect_call(stubber, image, [face_detail(0.25, 0.2, 0.5, 0.5, emotions(CALM=90.0))])

    result = analyze_segment_rekognition(path, 0.0, 2.0, client, sample_fps=1.0)

    sent = decode(image.seen[0])
    assert sent.shape[:2] == (720, 1280)
    assert result.tracks[0]["points"][0]["box"] == [480, 216, 960, 540]


# 3. filtering


def test_low_confidence_faces_are_dropped_and_empty_frames_count_zero(
    stubber: Stubber, client: Any, video: Path
) -> None:
    image = JpegBytes()
    happy = emotions(HAPPY=95.0, CONFUSED=2.0)
    expect_call(
        stubber,
        image,
        [face_detail(0.25, 0.2, 0.5, 0.6, happy), face_detail(0.02, 0.05, 0.1, 0.1, happy, confidence=50.0)],
    )
    expect_call(stubber, image, [])
    expect_call(stubber, image, [face_detail(0.26, 0.2, 0.5, 0.6, happy)])

    result = analyze_segment_rekognition(video, 0.0, 3.0, client, sample_fps=1.0)

    assert result.samples == [(0.0, 1), (1.0, 0), (2.0, 1)]
    assert len(result.tracks) == 1  # the gap of one sample is within the tracker's reach
    assert [p["t"] for p in result.tracks[0]["points"]] == [0.0, 2.0]


# 4. merge


def test_merged_rekognition_segments_carry_confused_and_the_backend(
    stubber: Stubber, client: Any, video: Path
) -> None:
    image = JpegBytes()
    for _ in range(6):
        expect_call(
            stubber,
            image,
            [
                face_detail(0.05, 0.3, 0.4, 0.4, emotions(HAPPY=90.0, CONFUSED=10.0)),
                face_detail(0.55, 0.3, 0.4, 0.4, emotions(SAD=60.0, CALM=10.0, CONFUSED=30.0)),
            ],
        )
    segments = [
        analyze_segment_rekognition(video, 0.0, 3.0, client, sample_fps=1.0),
        analyze_segment_rekognition(video, 3.0, 6.0, client, sample_fps=1.0),
    ]

    analysis = merge(probe(video), segments)

    assert analysis["model"]["backend"] == "rekognition"
    assert analysis["segments"] == 2
    assert len(analysis["faces"]) == 2  # each face stitched across the boundary at 3 s
    assert [s["t"] for s in analysis["timeline"]] == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    for entry in analysis["timeline"]:
        assert entry["faces"] == 2
        assert entry["extra"]["confused"] == pytest.approx(0.2)  # mean of 0.1 and 0.3
    happy, sad = sorted(analysis["faces"], key=lambda f: f["timeline"][0]["box"][0])
    assert {p["extra"]["confused"] for p in happy["timeline"]} == {0.1}
    assert {p["extra"]["confused"] for p in sad["timeline"]} == {0.3}
    assert analysis["summary"]["dominant"] == "happy"


# 5. errors


def test_throttling_propagates_as_a_client_error(stubber: Stubber, client: Any, video: Path) -> None:
    image = JpegBytes()
    expect_call(stubber, image, [face_detail(0.25, 0.2, 0.5, 0.6, emotions(CALM=90.0))])
    stubber.add_client_error(
        "detect_faces",
        service_error_code="ThrottlingException",
        service_message="Rate exceeded",
        http_status_code=400,
    )

    with pytest.raises(ClientError) as caught:
        analyze_segment_rekognition(video, 0.0, 3.0, client, sample_fps=1.0)

    assert caught.value.response["Error"]["Code"] == "ThrottlingException"
    assert caught.value.operation_name == "DetectFaces"
