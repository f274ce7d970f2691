"""Does an eyes-level crop from the face mesh (`chalicelib/engine/alignment.py`) help the expression models?

`python -m model.training.aligned_crops` writes `model/trained/aligned_crops.json` (a few minutes, one
thread). The protocol and the decision were fixed before any figure was seen:

1. **Framing** (fitted, never on test faces): 300 FER2013 *training* faces placed upright in frames; the
   median of the tile's side over the mesh's (3-D) eye distance, and of the tile centre's offset below the
   eyes' midpoint, give `alignment.FRAMING` (each run refits them and records both beside each other).
2. **Test faces**: a deterministic stratified subset of the PublicTest fixture (`--faces`, 700; training
   duplicates left out, as in every figure of the model card). Each face is placed twice, as the synthetic
   videos do (grayscale 48 px upscaled by bicubic to 150-250 px, on a textured 640x360 background, at a
   random place): **upright**, and **tilted** by 10-20 degrees either way (turned inside its tile, the
   tile's corners filled by edge replication); size and place the same in both.
3. **As the engine sees them**: BlazeFace's full pass (`detect_faces`), the face whose box centre lies in
   the tile nearest its centre, and the face mesh from that detection (`region_from_detection`), as
   `segment.py` does on a full pass. Crops: (a) today's `crop_square(frame, face.box)`; (b)
   `aligned_crop(frame, mesh.points)` (falling back to (a) where the mesh's face flag is below 0.5,
   counted). Both classified by `calibrated` (the default) and `own` (mirror-averaged). A third crop is
   reported as a diagnostic only (no part of the decision): (c) `framed`, the aligned crop's square
   without the turn (axis-aligned, same centre and side), which separates the framing's effect from the
   levelling's.
4. **Figures** per condition over the faces found: accuracy, balanced recall, and the paired difference
   (aligned - square) with a 95% percentile bootstrap CI (2,000 resamples of the faces); ms per crop.

**Decision rule** (the default classifier, `calibrated`): adopt the aligned crop only if accuracy on tilted
faces improves by more than the half-width of its CI, and accuracy on upright faces does not fall by more
than 0.5 points.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from chalicelib.engine import alignment
from chalicelib.engine.alignment import (
    Framing,
    aligned_crop,
    aligned_transform,
    eye_centres,
    eye_distance,
    eye_line_degrees,
)
from chalicelib.engine.blazeface import BlazeFaceDetector, Face
from chalicelib.engine.evaluation import hashes_under, metrics, read_labelled_csv
from chalicelib.engine.expressions import OnnxExpressionClassifier
from chalicelib.engine.faces import crop_square
from chalicelib.engine.labels import LABELS
from chalicelib.engine.landmarks import FaceMesh, Mesh, region_from_detection
from chalicelib.engine.segment import MESH_PRESENCE
from model.build import TRAINED_DIR
from model.training.data import DEFAULT_DATASET, ROOT

FIXTURE_CSV = ROOT.parent / "shared" / "fixtures" / "faces" / "fer2013-publictest" / "labels.csv"
WIDTH, HEIGHT = 640, 360
SIZES = (150, 250)
TILT = (10.0, 20.0)
CLASSIFIERS = ("calibrated", "own")
BOOTSTRAP = 2000
SEED = 20260612
#: The decision rule's upright bound: accuracy may fall by at most this much (0.5 points).
UPRIGHT_TOLERANCE = 0.005


@dataclass(frozen=True)
class Placement:
    """Where and how one face is put in a frame."""

    size: int
    x: int
    y: int
    tilt: float  # degrees, counter-clockwise in the picture; 0 upright
    background: int  # seed of the background

    @property
    def centre(self) -> np.ndarray:
        """The tile's centre in frame pixels (pixel centres at integers, as OpenCV and the mesh use)."""
        return np.array([self.x + (self.size - 1) / 2, self.y + (self.size - 1) / 2])


def background(seed: int) -> np.ndarray:
    """A textured background like the synthetic videos': smoothed colour noise over a horizontal ramp."""
    rng = np.random.default_rng(seed)
    noise = rng.integers(0, 256, (HEIGHT // 8 + 1, WIDTH // 8 + 1, 3), dtype=np.uint8)
    base = cv2.GaussianBlur(cv2.resize(noise, (WIDTH, HEIGHT), interpolation=cv2.INTER_CUBIC), (0, 0), 6)
    ramp = np.linspace(60, 160, WIDTH, dtype=np.float32)[None, :, None]
    return np.clip(base.astype(np.float32) * 0.35 + ramp, 0, 255).astype(np.uint8)


def place(gray: np.ndarray, where: Placement, backgrounds: dict[int, np.ndarray]) -> np.ndarray:
    """The face upscaled into its tile, turned by `where.tilt` inside it, on the background."""
    if where.background not in backgrounds:
        backgrounds[where.background] = background(where.background)
    tile = cv2.resize(gray, (where.size, where.size), interpolation=cv2.INTER_CUBIC)
    if where.tilt:
        turn = cv2.getRotationMatrix2D(((where.size - 1) / 2, (where.size - 1) / 2), where.tilt, 1.0)
        tile = cv2.warpAffine(tile, turn, (where.size, where.size), borderMode=cv2.BORDER_REPLICATE)
    frame = backgrounds[where.background].copy()
    frame[where.y : where.y + where.size, where.x : where.x + where.size] = tile[:, :, None]
    return frame


def placements(count: int, seed: int) -> list[tuple[Placement, Placement]]:
    """(upright, tilted) placements per face: same size, place and background; tilt 10-20 degrees, either
    way."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(count):
        size = int(rng.integers(SIZES[0], SIZES[1] + 1))
        x, y = int(rng.integers(0, WIDTH - size + 1)), int(rng.integers(0, HEIGHT - size + 1))
        tilt = float(rng.uniform(*TILT)) * float(rng.choice([-1.0, 1.0]))
        bg = int(rng.integers(0, 8))
        out.append((Placement(size, x, y, 0.0, bg), Placement(size, x, y, tilt, bg)))
    return out


def stratified(truth: np.ndarray, count: int, seed: int) -> np.ndarray:
    """`count` indices with every class in proportion (largest remainders), chosen by a seeded shuffle."""
    rng = np.random.default_rng(seed)
    classes = np.unique(truth)
    share = np.array([np.sum(truth == k) for k in classes]) * count / len(truth)
    quota = np.floor(share).astype(int)
    for i in np.argsort(-(share - quota))[: count - int(quota.sum())]:
        quota[i] += 1
    chosen = [rng.permutation(np.flatnonzero(truth == k))[:q] for k, q in zip(classes, quota, strict=True)]
    return np.sort(np.concatenate(chosen))


def find(detector: BlazeFaceDetector, frame: np.ndarray, where: Placement) -> Face | None:
    """The detected face whose box centre lies inside the tile, nearest the tile's centre."""
    best, best_distance = None, math.inf
    for face in detector.detect_faces(frame):
        x, y, w, h = face.box
        centre = np.array([x + w / 2, y + h / 2])
        inside = where.x <= centre[0] < where.x + where.size and where.y <= centre[1] < where.y + where.size
        distance = float(np.linalg.norm(centre - where.centre))
        if inside and distance < best_distance:
            best, best_distance = face, distance
    return best


def mesh_of(mesh: FaceMesh, frame: np.ndarray, face: Face) -> Mesh:
    """The mesh from a detection, as `segment.py` runs it on a full pass."""
    return mesh.run(frame, [region_from_detection(face.box, face.keypoints[0], face.keypoints[1])])[0]


def fit_framing(
    detector: BlazeFaceDetector, mesh: FaceMesh, training: Path, count: int, seed: int
) -> dict[str, Any]:
    """Median framing of upright FER2013 training faces relative to the mesh's eyes, and (for comparison)
    of today's square crop relative to the tile."""
    with open(training / "labels.csv", newline="") as handle:
        rows = [row["path"] for row in csv.DictReader(handle)]
    picked = np.random.default_rng(seed).permutation(len(rows))[:count]
    sides, downs, across, box_sides, box_shift = [], [], [], [], []
    backgrounds: dict[int, np.ndarray] = {}
    for index, (where, _) in zip(picked, placements(count, seed + 1), strict=True):
        gray = read_gray(training / rows[index])
        frame = place(gray, where, backgrounds)
        face = find(detector, frame, where)
        if face is None:
            continue
        found = mesh_of(mesh, frame, face)
        if found.presence < MESH_PRESENCE:
            continue
        right, left = eye_centres(found.points)
        distance = eye_distance(found.points)
        u = (left - right) / float(np.linalg.norm(left - right))
        d = np.array([-u[1], u[0]])
        offset = where.centre - (right + left) / 2
        sides.append(where.size / distance)
        downs.append(float(offset @ d) / distance)
        across.append(float(offset @ u) / distance)
        _, y, w, h = face.box
        box_sides.append(max(w, h) / where.size)
        box_shift.append(((y + h / 2) - (where.y + where.size / 2)) / where.size)
    return {
        "faces_placed": count,
        "faces_used": len(sides),
        "side_over_eye_distance": round(float(np.median(sides)), 2),
        "down_over_eye_distance": round(float(np.median(downs)), 2),
        "sideways_over_eye_distance (not used: 0 by symmetry)": round(float(np.median(across)), 3),
        "crop_square_side_over_tile_side": round(float(np.median(box_sides)), 3),
        "crop_square_centre_below_tile_centre_over_tile_side": round(float(np.median(box_shift)), 3),
    }


def framed_crop(frame: np.ndarray, points: np.ndarray, framing: Framing) -> np.ndarray:
    """The diagnostic crop: the aligned crop's square (centre and side) left unturned, axis-aligned."""
    transform, n = aligned_transform(points, framing)
    step = float(np.hypot(transform[0, 0], transform[1, 0]))
    centre = transform @ np.array([(n - 1) / 2, (n - 1) / 2, 1.0])
    level = np.array(
        [[step, 0.0, centre[0] - (n - 1) / 2 * step], [0.0, step, centre[1] - (n - 1) / 2 * step]]
    )
    return cv2.warpAffine(frame, level, (n, n), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP)


def _classify(classifier: OnnxExpressionClassifier, crops: list[np.ndarray]) -> np.ndarray:
    """In batches of 16, as the engine classifies a segment's crops."""
    return np.concatenate([classifier.classify(crops[i : i + 16]) for i in range(0, len(crops), 16)])


def read_gray(path: Path) -> np.ndarray:
    gray = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if gray is None:
        raise FileNotFoundError(path)
    return np.asarray(gray)


def balanced_recall(correct: np.ndarray, truth: np.ndarray) -> float:
    return float(np.mean([correct[truth == k].mean() for k in np.unique(truth)]))


def paired_difference(
    truth: np.ndarray, square: np.ndarray, aligned: np.ndarray, rng: np.random.Generator
) -> dict[str, Any]:
    """Aligned minus square, accuracy and balanced recall, with 95% percentile bootstrap CIs (the same
    resampled faces for both crops)."""
    right_a, right_s = aligned == truth, square == truth
    out: dict[str, Any] = {}
    for name, score in (("accuracy", lambda c, t: float(c.mean())), ("balanced_recall", balanced_recall)):
        diffs = []
        for _ in range(BOOTSTRAP):
            pick = rng.integers(0, len(truth), len(truth))
            diffs.append(score(right_a[pick], truth[pick]) - score(right_s[pick], truth[pick]))
        low, high = np.percentile(diffs, [2.5, 97.5])
        out[name] = {
            "difference": score(right_a, truth) - score(right_s, truth),
            "ci95": [float(low), float(high)],
            "ci_half_width": float(high - low) / 2,
        }
    return out


def _summary(probs: np.ndarray, truth: np.ndarray) -> dict[str, Any]:
    full = metrics(probs, truth)
    return {key: full[key] for key in ("faces", "accuracy", "balanced_recall", "recall", "log_loss", "ece")}


def measure(
    model_dir: Path, labels_csv: Path, training: Path, count: int, seed: int, fit_count: int
) -> dict[str, Any]:
    cv2.setNumThreads(1)
    detector, mesh = BlazeFaceDetector(model_dir), FaceMesh(model_dir)
    began = time.process_time()
    fitted = fit_framing(detector, mesh, training, fit_count, seed)
    print(f"framing fitted on {fitted['faces_used']} training faces: {fitted}", flush=True)
    framing = alignment.FRAMING
    faces = read_labelled_csv(labels_csv, hashes_under(training))
    chosen = stratified(faces.truth, count, seed)
    truth_all = faces.truth[chosen]
    classifiers = {name: OnnxExpressionClassifier(model_dir, name) for name in CLASSIFIERS}
    backgrounds: dict[int, np.ndarray] = {}
    conditions: dict[str, dict[str, Any]] = {
        c: {"found": [], "square": [], "aligned": [], "framed": [], "fallback": 0}
        for c in ("upright", "tilted")
    }
    ms: dict[str, list[float]] = {"crop_square": [], "aligned_crop": [], "mesh": []}
    angle_errors = []
    for n, (index, pair) in enumerate(zip(chosen, placements(count, seed + 2), strict=True)):
        gray = read_gray(faces.paths[index])
        measured = {}
        for condition, where in zip(("upright", "tilted"), pair, strict=True):
            frame = place(gray, where, backgrounds)
            face = find(detector, frame, where)
            store = conditions[condition]
            if face is None:
                continue
            tick = time.perf_counter()
            found = mesh_of(mesh, frame, face)
            ms["mesh"].append(1000 * (time.perf_counter() - tick))
            tick = time.perf_counter()
            square = crop_square(frame, face.box)
            ms["crop_square"].append(1000 * (time.perf_counter() - tick))
            if found.presence >= MESH_PRESENCE:
                tick = time.perf_counter()
                aligned = aligned_crop(frame, found.points, framing)
                ms["aligned_crop"].append(1000 * (time.perf_counter() - tick))
                measured[condition] = eye_line_degrees(found.points)
                framed = framed_crop(frame, found.points, framing)
            else:
                aligned = framed = square
                store["fallback"] += 1
            store["found"].append(n)
            store["square"].append(square)
            store["aligned"].append(aligned)
            store["framed"].append(framed)
        if "upright" in measured and "tilted" in measured:
            angle_errors.append(measured["tilted"] - measured["upright"] - pair[1].tilt)
        if (n + 1) % 100 == 0:
            print(f"{n + 1} of {count} faces placed", flush=True)
    rng = np.random.default_rng(seed + 3)
    results: dict[str, Any] = {
        "protocol": {
            "faces": count,
            "seed": seed,
            "frame": [WIDTH, HEIGHT],
            "tile_sizes": list(SIZES),
            "tilt_degrees": list(TILT),
            "bootstrap_resamples": BOOTSTRAP,
            "excluded_training_duplicates": faces.excluded_duplicates,
            "support": {LABELS[k]: int(np.sum(truth_all == k)) for k in range(len(LABELS))},
        },
        "framing_used": asdict(framing),
        "framing_refitted": fitted,
    }
    for condition, store in conditions.items():
        truth = truth_all[store["found"]]
        entry: dict[str, Any] = {
            "found": len(store["found"]),
            "missed_by_detector": count - len(store["found"]),
            "mesh_fallbacks": store["fallback"],
        }
        for name, classifier in classifiers.items():
            probs = {crop: _classify(classifier, store[crop]) for crop in ("square", "aligned", "framed")}
            entry[name] = {
                "crop_square": _summary(probs["square"], truth),
                "aligned_crop": _summary(probs["aligned"], truth),
                "aligned_minus_square": paired_difference(
                    truth, probs["square"].argmax(axis=1), probs["aligned"].argmax(axis=1), rng
                ),
                "diagnostic_framed_unturned": _summary(probs["framed"], truth),
                "diagnostic_framed_minus_square": paired_difference(
                    truth, probs["square"].argmax(axis=1), probs["framed"].argmax(axis=1), rng
                ),
                "diagnostic_aligned_minus_framed": paired_difference(
                    truth, probs["framed"].argmax(axis=1), probs["aligned"].argmax(axis=1), rng
                ),
            }
            a, s, f = (entry[name][k] for k in ("aligned_crop", "crop_square", "diagnostic_framed_unturned"))
            diff = entry[name]["aligned_minus_square"]["accuracy"]
            print(
                f"{condition:>7} {name:>10}: square acc {s['accuracy']:.4f} bal {s['balanced_recall']:.4f} | "
                f"aligned acc {a['accuracy']:.4f} bal {a['balanced_recall']:.4f} | "
                f"diff {diff['difference']:+.4f} [{diff['ci95'][0]:+.4f}, {diff['ci95'][1]:+.4f}] | "
                f"framed acc {f['accuracy']:.4f}",
                flush=True,
            )
        results[condition] = entry
    errors = np.abs(np.array(angle_errors))
    results["tilt_read_by_the_mesh"] = {
        "faces": len(errors),
        "median_abs_error_degrees": float(np.median(errors)),
        "p95_abs_error_degrees": float(np.percentile(errors, 95)),
    }
    results["ms_per_crop"] = {
        key: {"median": float(np.median(v)), "mean": float(np.mean(v))} for key, v in ms.items()
    }
    tilted = results["tilted"]["calibrated"]["aligned_minus_square"]["accuracy"]
    upright = results["upright"]["calibrated"]["aligned_minus_square"]["accuracy"]
    adopt = tilted["difference"] > tilted["ci_half_width"] and upright["difference"] >= -UPRIGHT_TOLERANCE
    results["decision"] = {
        "rule": "calibrated: tilted accuracy gain > its CI half-width, upright accuracy falls <= 0.5 points",
        "tilted_gain": tilted["difference"],
        "tilted_ci_half_width": tilted["ci_half_width"],
        "upright_change": upright["difference"],
        "adopt": bool(adopt),
    }
    results["cpu_seconds"] = round(time.process_time() - began, 1)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model-dir", type=Path, default=ROOT / "model" / "onnx")
    parser.add_argument("--labels", type=Path, default=FIXTURE_CSV)
    parser.add_argument("--training", type=Path, default=DEFAULT_DATASET)
    parser.add_argument("--faces", type=int, default=700)
    parser.add_argument("--fit-faces", type=int, default=300)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--out", type=Path, default=TRAINED_DIR / "aligned_crops.json")
    parser.add_argument("--fit-only", action="store_true", help="print the framing fitted on training faces")
    args = parser.parse_args(argv)
    if args.fit_only:
        cv2.setNumThreads(1)
        models = BlazeFaceDetector(args.model_dir), FaceMesh(args.model_dir)
        print(json.dumps(fit_framing(*models, args.training, args.fit_faces, args.seed), indent=1))
        return 0
    results = measure(args.model_dir, args.labels, args.training, args.faces, args.seed, args.fit_faces)
    args.out.write_text(json.dumps(results, indent=1) + "\n")
    decision = results["decision"]
    print(f"tilt read by the mesh: {json.dumps(results['tilt_read_by_the_mesh'])}")
    print(f"ms per crop: {json.dumps(results['ms_per_crop'])}")
    print(f"decision: {'ADOPT' if decision['adopt'] else 'do not adopt'} ({json.dumps(decision)})")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
