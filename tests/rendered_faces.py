"""Faces turned by a known angle, for tests with ground truth: a real face's texture on its own face-mesh,
rotated in 3-D and drawn back (triangle by triangle, farthest first) over the frame with the face removed.

The fixture videos hold no face turned away by more than ~24 degrees, so head-pose and attention tests
render their own from a real frame.
"""

from __future__ import annotations

import cv2
import numpy as np


def _triangles(points: np.ndarray, width: int, height: int) -> list[tuple[int, int, int]]:
    """Delaunay triangles of the mesh points (indices)."""
    subdiv = cv2.Subdiv2D((0, 0, width, height))
    inside = [(i, p) for i, p in enumerate(points[:, :2]) if 0 <= p[0] < width - 1 and 0 <= p[1] < height - 1]
    lookup = {}
    for i, p in inside:
        key = (round(float(p[0]), 3), round(float(p[1]), 3))
        lookup[key] = i
        subdiv.insert((float(p[0]), float(p[1])))
    out = []
    for tri in subdiv.getTriangleList():
        keys = [(round(float(tri[k]), 3), round(float(tri[k + 1]), 3)) for k in (0, 2, 4)]
        if all(k in lookup for k in keys):
            out.append((lookup[keys[0]], lookup[keys[1]], lookup[keys[2]]))
    return out


def turn_face(frame: np.ndarray, points: np.ndarray, yaw: float = 0.0, pitch: float = 0.0) -> np.ndarray:
    """The frame with its face (mesh `points`, [468, 3] pixels) turned by `yaw` degrees (+: to the
    subject's left) and `pitch` degrees (+: looking up), seen orthographically."""
    height, width = frame.shape[:2]
    centre = points.mean(axis=0)
    a, b = np.radians(-yaw), np.radians(-pitch)
    ry = np.array([[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]])
    rx = np.array([[1, 0, 0], [0, np.cos(b), -np.sin(b)], [0, np.sin(b), np.cos(b)]])
    turned = (points - centre) @ (ry @ rx).T + centre
    hull = cv2.convexHull(points[:, :2].astype(np.int32))
    hull_mask = np.zeros((height, width), np.uint8)
    cv2.fillConvexPoly(hull_mask, hull, 255)
    out = cv2.inpaint(frame, cv2.dilate(hull_mask, np.ones((9, 9), np.uint8)), 5, cv2.INPAINT_TELEA)
    triangles = _triangles(points, width, height)
    triangles.sort(key=lambda tri: -float(np.mean(turned[list(tri), 2])))  # farthest first
    for tri in triangles:
        source = points[list(tri), :2].astype(np.float32)
        target = turned[list(tri), :2].astype(np.float32)
        x, y, w, h = cv2.boundingRect(target)
        if w <= 0 or h <= 0 or x < 0 or y < 0 or x + w > width or y + h > height:
            continue
        normal_z = np.cross(turned[tri[1]] - turned[tri[0]], turned[tri[2]] - turned[tri[0]])[2]
        original_z = np.cross(points[tri[1]] - points[tri[0]], points[tri[2]] - points[tri[0]])[2]
        if normal_z * original_z <= 0:
            continue  # turned away from the camera
        corner = np.array([x, y], dtype=np.float32)
        warp = cv2.getAffineTransform(source, target - corner)
        patch = cv2.warpAffine(frame, warp, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        tri_mask = np.zeros((h, w), np.uint8)
        cv2.fillConvexPoly(tri_mask, (target - corner).astype(np.int32), 1)
        region = out[y : y + h, x : x + w]
        region[tri_mask == 1] = patch[tri_mask == 1]
    return out
