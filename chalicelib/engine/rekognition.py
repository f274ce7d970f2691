"""Analyse one segment with Amazon Rekognition DetectFaces instead of the ONNX models.

Same unit of work and same `SegmentResult` as `segment.analyze_segment`, so `merge` and everything after it
work unchanged: frames are sampled on the same global grid, faces get identities from the same tracker, and
the points carry the same 7 probabilities in label order. Rekognition's one expression outside the 7 labels,
CONFUSED, travels beside them in each point's `"x"` extras.

Every sample is one paid API call, so the caller passes a low `sample_fps`. The client is injected (a boto3
Rekognition client in production, a stubbed one in tests), which keeps boto3 out of this module; its errors
propagate unchanged so the pipeline's retry policy sees the throttling error it is written for.
"""

from __future__ import annotations

import time
from typing import Any, Protocol

import cv2
import numpy as np

from chalicelib.engine.faces import Box
from chalicelib.engine.labels import LABELS
from chalicelib.engine.segment import SegmentResult, track_fragments
from chalicelib.engine.tracking import FaceTracker
from chalicelib.engine.video import VideoSource, sample_frames

#: Rekognition emotion types and the project label each one counts as.
REKOGNITION_TO_LABEL: dict[str, str] = {
    "HAPPY": "happy",
    "SAD": "sad",
    "ANGRY": "angry",
    "SURPRISED": "surprise",
    "DISGUSTED": "disgust",
    "FEAR": "fear",
    "CALM": "neutral",
    "CONFUSED": "confused",  # not one of LABELS: kept as an extra score
}
MODEL = {"backend": "rekognition", "version": "rekognition-detectfaces/1", "detector": "rekognition"}
#: Frames are downscaled so their longer side is at most this: plenty for faces, and with JPEG quality 90
#: even pure noise at 1280x1280 encodes to about 1.5 MB, far below the API's 5 MB image-bytes limit.
MAX_SIDE = 1280
JPEG_QUALITY = 90
MAX_IMAGE_BYTES = 5 * 1024 * 1024

_INDEX = {label: i for i, label in enumerate(LABELS)}


class RekognitionClient(Protocol):
    """The one call this backend makes (a boto3 `rekognition` client satisfies it)."""

    def detect_faces(self, *, Image: dict[str, Any], Attributes: list[str]) -> dict[str, Any]: ...


def emotion_probabilities(emotions: list[dict[str, Any]]) -> tuple[list[float], dict[str, float]]:
    """The 7 label probabilities (in LABELS order) and the extras `{"confused": score}` of one face.

    Rekognition's confidences are per-type scores in percent, not a distribution over our labels, so the
    7 mapped scores are scaled to 0..1 and renormalised to sum to 1, like the ONNX classifier's output.
    CONFUSED has no counterpart among the labels; folding it into one (say neutral) would invent an
    expression, so it is kept apart, un-renormalised (confidence / 100). A face with no score on any label
    counts as neutral = 1.0: a uniform vector would invent 3/7 negative expression and move the valence.
    Unknown types are ignored.
    """
    scores = np.zeros(len(LABELS), dtype=np.float64)
    confused = 0.0
    for emotion in emotions:
        label = REKOGNITION_TO_LABEL.get(str(emotion.get("Type")))
        value = max(0.0, float(emotion.get("Confidence", 0.0))) / 100.0
        if label == "confused":
            confused = max(confused, value)
        elif label is not None:
            scores[_INDEX[label]] = max(scores[_INDEX[label]], value)
    total = scores.sum()
    if total > 0:
        probs = scores / total
    else:
        probs = np.zeros(len(LABELS), dtype=np.float64)
        probs[_INDEX["neutral"]] = 1.0
    return [float(v) for v in probs], {"confused": confused}


def encode_jpeg(frame: np.ndarray) -> bytes:
    """The frame as JPEG bytes for the API, downscaled so its longer side is at most MAX_SIDE px."""
    height, width = frame.shape[:2]
    scale = MAX_SIDE / max(height, width)
    if scale < 1.0:
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        frame = cv2.resize(frame, size, interpolation=cv2.INTER_AREA)
    ok, buffer = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise ValueError("cv2 could not encode the frame as JPEG")
    data = buffer.tobytes()
    if len(data) > MAX_IMAGE_BYTES:  # not reachable at MAX_SIDE and JPEG_QUALITY (see above)
        raise ValueError(f"JPEG of {len(data)} bytes exceeds Rekognition's {MAX_IMAGE_BYTES} byte limit")
    return data


def pixel_box(bounding_box: dict[str, Any], width: int, height: int) -> Box | None:
    """A Rekognition BoundingBox (ratios of the image) as a pixel box of a `width` x `height` frame.

    Rekognition's box may reach outside the image for a face at the edge; it is clipped to the frame so
    boxes mean the same as the ONNX backend's (upright-frame pixels). None when nothing is left inside.
    """
    left, top = float(bounding_box.get("Left", 0.0)), float(bounding_box.get("Top", 0.0))
    right = left + float(bounding_box.get("Width", 0.0))
    bottom = top + float(bounding_box.get("Height", 0.0))
    x0, y0 = round(min(max(left, 0.0), 1.0) * width), round(min(max(top, 0.0), 1.0) * height)
    x1, y1 = round(min(max(right, 0.0), 1.0) * width), round(min(max(bottom, 0.0), 1.0) * height)
    if x1 <= x0 or y1 <= y0:
        return None
    return (x0, y0, x1 - x0, y1 - y0)


def analyze_segment_rekognition(
    source: VideoSource,
    start: float,
    end: float,
    client: RekognitionClient,
    *,
    sample_fps: float,
    min_confidence: float = 80.0,
) -> SegmentResult:
    """Sample [start, end) at `sample_fps`, detect and classify faces with one DetectFaces call per sample.

    Faces below `min_confidence` (Rekognition's confidence that the box holds a face, in percent) are
    dropped as detector noise. Timings are wall-clock seconds, not CPU seconds as in the ONNX backend: the
    time is spent waiting for the API; `detect` covers JPEG encoding and the calls.
    """
    tracker = FaceTracker(max_gap_seconds=max(1.0, 2.0 / sample_fps))
    clock = {"decode": 0.0, "detect": 0.0}
    samples: list[tuple[float, int]] = []
    probs: list[list[float]] = []
    extras: list[dict[str, float]] = []
    started = time.perf_counter()
    frames = sample_frames(source, start, end, sample_fps)
    while True:
        tick = time.perf_counter()
        item = next(frames, None)
        clock["decode"] += time.perf_counter() - tick
        if item is None:
            break
        t, frame = item
        tick = time.perf_counter()
        response = client.detect_faces(Image={"Bytes": encode_jpeg(frame)}, Attributes=["ALL"])
        clock["detect"] += time.perf_counter() - tick
        height, width = frame.shape[:2]
        boxes: list[Box] = []
        for face in response.get("FaceDetails", []):
            if float(face.get("Confidence", 0.0)) < min_confidence or "BoundingBox" not in face:
                continue
            box = pixel_box(face["BoundingBox"], width, height)
            if box is None:
                continue
            row, extra = emotion_probabilities(face.get("Emotions", []))
            boxes.append(box)
            probs.append(row)
            extras.append(extra)
        tracker.update(t, boxes)
        samples.append((t, len(boxes)))

    clock["total"] = time.perf_counter() - started
    matrix = np.array(probs, dtype=np.float64).reshape(-1, len(LABELS))
    return SegmentResult(
        start=start,
        end=end,
        sample_fps=sample_fps,
        samples=samples,
        tracks=track_fragments(tracker, samples, matrix, extras),
        model=dict(MODEL),
        timings={k: round(v, 4) for k, v in clock.items()},
    )
