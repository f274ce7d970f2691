"""Give each face an identity across samples: a greedy IoU tracker with a centroid fallback.

Faces in audience footage move little between samples 0.2 s apart, so overlap is a reliable cue; when a
face moves fast the boxes stop overlapping and the centroid distance (relative to face size) decides.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from chalicelib.engine.faces import Box, iou


@dataclass
class Track:
    id: int
    last_box: Box
    last_t: float
    points: list[tuple[float, Box, int]] = field(default_factory=list)  # (t, box, detection index)


def centroid_distance(a: Box, b: Box) -> float:
    """Distance of the centres divided by the mean face side."""
    ax, ay = a[0] + a[2] / 2, a[1] + a[3] / 2
    bx, by = b[0] + b[2] / 2, b[1] + b[3] / 2
    side = (a[2] + a[3] + b[2] + b[3]) / 4
    return float(((ax - bx) ** 2 + (ay - by) ** 2) ** 0.5 / max(side, 1.0))


def match_score(a: Box, b: Box, min_iou: float = 0.3, max_centroid: float = 0.6) -> float:
    """How likely two boxes are the same face: the IoU when they overlap enough, else a smaller score
    that falls with centroid distance; 0 when they are not the same face."""
    overlap = iou(a, b)
    if overlap >= min_iou:
        return overlap
    distance = centroid_distance(a, b)
    return min_iou * (1 - distance / max_centroid) * 0.99 if distance < max_centroid else 0.0


class FaceTracker:
    """Assigns track ids to detections sample by sample."""

    def __init__(self, max_gap_seconds: float = 1.0, min_iou: float = 0.3, max_centroid: float = 0.6) -> None:
        self.max_gap = max_gap_seconds
        self.min_iou = min_iou
        self.max_centroid = max_centroid
        self.tracks: list[Track] = []
        self._next_id = 0

    def live_boxes(self, t: float) -> list[Box]:
        """Last boxes of the tracks still alive at time t (where to look for their faces again)."""
        return [tr.last_box for tr in self.tracks if t - tr.last_t <= self.max_gap + 1e-6]

    def update(self, t: float, boxes: list[Box]) -> list[int]:
        """Match this sample's boxes to live tracks; returns the track id of each box."""
        live = [tr for tr in self.tracks if t - tr.last_t <= self.max_gap + 1e-6]
        pairs = []
        for ti, track in enumerate(live):
            for bi, box in enumerate(boxes):
                score = match_score(track.last_box, box, self.min_iou, self.max_centroid)
                if score > 0:
                    pairs.append((score, ti, bi))
        pairs.sort(reverse=True)
        ids: list[int | None] = [None] * len(boxes)
        used_tracks: set[int] = set()
        for _, ti, bi in pairs:
            if ti in used_tracks or ids[bi] is not None:
                continue
            used_tracks.add(ti)
            ids[bi] = live[ti].id
            self._extend(live[ti], t, boxes[bi], bi)
        for bi, box in enumerate(boxes):
            if ids[bi] is None:
                track = Track(id=self._next_id, last_box=box, last_t=t)
                self._next_id += 1
                self.tracks.append(track)
                self._extend(track, t, box, bi)
                ids[bi] = track.id
        return [i for i in ids if i is not None]

    @staticmethod
    def _extend(track: Track, t: float, box: Box, index: int) -> None:
        track.last_box, track.last_t = box, t
        track.points.append((t, box, index))
