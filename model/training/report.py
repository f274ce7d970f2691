"""Figures for the model card: every classifier on the PublicTest fixture, training duplicates excluded.

`python -m model.training.report` evaluates (never fits: all weights, temperatures and biases come from the
training split) and writes `model/trained/publictest.json`, `docs/model-confusion.png` and
`docs/model-calibration.png`. The cheaper combinations fitted beside the default (`alternatives` in
`calibrated.json`) are measured too, with their cost: ms per face of the engine's classifier objects in
batches of 16 on one onnxruntime thread.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from chalicelib.engine import expressions
from chalicelib.engine.evaluation import (
    ECE_BINS,
    classify_faces,
    hashes_under,
    load_image,
    metrics,
    read_labelled_csv,
)
from chalicelib.engine.expressions import OnnxExpressionClassifier
from chalicelib.engine.labels import LABELS
from chalicelib.engine.onnx_sessions import load_session
from model.build import TRAINED_DIR
from model.training.data import DEFAULT_DATASET, ROOT

FIXTURE_CSV = ROOT.parent / "shared" / "fixtures" / "faces" / "fer2013-publictest" / "labels.csv"
CONFIGS = [
    ("ensemble", True),
    ("mini_xception", False),
    ("faceapi", False),
    ("own", False),
    ("own", True),
    ("calibrated", None),
]


def ms_per_face(model_dir: Path, batch: int = 8, repeats: int = 30) -> float:
    """The own net alone in onnxruntime, one thread, batches of `batch` (best of several timings)."""
    session = load_session(model_dir / expressions.OWN_FILE)
    x = np.random.default_rng(0).uniform(0, 255, (batch, 48, 48, 1)).astype(np.float32)
    for _ in range(10):
        session.run(["probs"], {"image": x})
    best = float("inf")
    for _ in range(repeats):
        began = time.perf_counter()
        for _ in range(20):
            session.run(["probs"], {"image": x})
        best = min(best, (time.perf_counter() - began) / 20 / batch)
    return 1000 * best


def ms_per_face_batch16(
    classifiers: dict[str, Callable[[list[np.ndarray]], np.ndarray]],
    images: list[np.ndarray],
    faces: int = 512,
    rounds: int = 7,
) -> dict[str, dict[str, float]]:
    """Each classifier's ms per face on `faces` real crops in batches of 16 (one onnxruntime thread, as the
    engine loads every session): the best and the median of `rounds`, the classifiers taking turns in each
    round so that load from other work on the machine falls on all of them alike."""
    batches = [images[i : i + 16] for i in range(0, min(faces, len(images)), 16)]
    count = sum(len(b) for b in batches)
    for classify in classifiers.values():
        for batch in batches[:4]:
            classify(batch)
    times: dict[str, list[float]] = {name: [] for name in classifiers}
    for _ in range(rounds):
        for name, classify in classifiers.items():
            began = time.perf_counter()
            for batch in batches:
                classify(batch)
            times[name].append(1000 * (time.perf_counter() - began) / count)
    return {name: {"best": min(t), "median": float(np.median(t))} for name, t in times.items()}


def _uncalibrated_own(probs: np.ndarray, temperature: float) -> np.ndarray:
    """The own net's probabilities before temperature scaling: softmax(T log p) = softmax(logits)."""
    z = temperature * np.log(np.clip(probs, 1e-30, 1.0))
    z -= z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _reliability(probs: np.ndarray, truth: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    confidence, correct = probs.max(axis=1), probs.argmax(axis=1) == truth
    edges = np.linspace(0, 1, ECE_BINS + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, ECE_BINS - 1)
    conf = np.array(
        [confidence[which == b].mean() if (which == b).any() else np.nan for b in range(ECE_BINS)]
    )
    acc = np.array([correct[which == b].mean() if (which == b).any() else np.nan for b in range(ECE_BINS)])
    count = np.bincount(which, minlength=ECE_BINS)
    return conf, acc, count


def _plots(results: dict[str, Any], curves: dict[str, tuple[np.ndarray, np.ndarray]], docs: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = ["own+flip", "calibrated"]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.8))
    for ax, name in zip(axes, shown, strict=True):
        confusion = np.array(results[name]["confusion"], dtype=float)
        rates = confusion / confusion.sum(axis=1, keepdims=True)
        ax.imshow(rates, cmap="Blues", vmin=0, vmax=1)
        for i in range(len(LABELS)):
            for j in range(len(LABELS)):
                colour = "white" if rates[i, j] > 0.5 else "black"
                ax.text(j, i, f"{int(confusion[i, j])}\n{rates[i, j]:.0%}", ha="center", va="center",
                        fontsize=7, color=colour)  # fmt: skip
        ax.set_xticks(range(len(LABELS)), LABELS, rotation=45, ha="right")
        ax.set_yticks(range(len(LABELS)), LABELS)
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        r = results[name]
        ax.set_title(f"{name}: accuracy {r['accuracy']:.1%}, balanced {r['balanced_recall']:.1%}", fontsize=9)
    fig.suptitle(f"FER2013 PublicTest without training duplicates ({results['calibrated']['faces']} faces)")
    fig.tight_layout()
    fig.savefig(docs / "model-confusion.png", dpi=110)
    plt.close(fig)

    fig, axes = plt.subplots(1, len(curves) // 2, figsize=(5 * len(curves) // 2, 4.5))
    names = list(curves)
    for ax, (before, after) in zip(axes, zip(names[::2], names[1::2], strict=True), strict=True):
        ax.plot([0, 1], [0, 1], color="grey", linestyle=":", linewidth=1)
        for name, style in ((before, "o--"), (after, "s-")):
            probs, truth = curves[name]
            conf, acc, _ = _reliability(probs, truth)
            ece = metrics(probs, truth)["ece"]
            ax.plot(conf, acc, style, label=f"{name}: ECE {ece:.1%}")
        ax.set_xlabel("confidence (top probability)")
        ax.set_ylabel("accuracy")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.legend(fontsize=8, loc="upper left")
    fig.suptitle(f"Calibration before and after on PublicTest without training duplicates ({ECE_BINS} bins)")
    fig.tight_layout()
    fig.savefig(docs / "model-calibration.png", dpi=110)
    plt.close(fig)


def report(
    model_dir: Path, labels_csv: Path, training: Path, docs: Path, out: Path, trained_dir: Path = TRAINED_DIR
) -> dict[str, Any]:
    faces = read_labelled_csv(labels_csv, hashes_under(training))
    truth = faces.truth
    images = [load_image(p) for p in faces.paths]
    results: dict[str, Any] = {
        "faces": len(truth),
        "excluded_training_duplicates": faces.excluded_duplicates,
    }
    probs_by: dict[str, np.ndarray] = {}
    for name, flip in CONFIGS:
        classifier = OnnxExpressionClassifier(model_dir, name, flip=flip)
        probs, ms = classify_faces(classifier, faces.paths)
        key = classifier.version.removesuffix("/1")
        probs_by[key] = probs
        results[key] = {**metrics(probs, truth), "ms_per_face_batches_of_64": ms}
        print(
            f"{key:>18}: acc {results[key]['accuracy']:.4f} bal {results[key]['balanced_recall']:.4f} "
            f"ece {results[key]['ece']:.3f} nll {results[key]['log_loss']:.3f} | "
            + " ".join(f"{v:.3f}" for v in results[key]["recall"].values()),
            flush=True,
        )
    own_report = json.loads((trained_dir / "own_expression.json").read_text())
    temperature = own_report["temperature"]
    raw_own = _uncalibrated_own(probs_by["own"], temperature)
    results["own, before temperature scaling"] = metrics(raw_own, truth)
    members = [OnnxExpressionClassifier(model_dir, n, flip=True) for n in ("own", "mini_xception", "faceapi")]
    member_probs = [np.concatenate([m.classify(images[i : i + 64]) for i in range(0, len(images), 64)])
                    for m in members]  # fmt: skip
    by_name = dict(zip(("own", "mini_xception", "faceapi"), member_probs, strict=True))
    equal = (by_name["own"] + by_name["faceapi"]) / 2
    results["own+flip and faceapi+flip averaged, uncalibrated"] = metrics(equal, truth)
    alternative = json.loads((model_dir / expressions.CALIBRATED_FILE).read_text())["with_mini_xception"]
    logits = np.tile(np.array(alternative["bias"]), (len(truth), 1))
    for member in alternative["members"]:
        logits += member["weight"] * np.log(np.clip(by_name[member["model"]], 1e-7, 1.0))
    logits -= logits.max(axis=1, keepdims=True)
    combined = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    results["fitted on validation with mini_xception too (its weight inflated)"] = metrics(combined, truth)
    results["own_ms_per_face_batch8_one_thread"] = ms_per_face(model_dir)
    spec = json.loads((model_dir / expressions.CALIBRATED_FILE).read_text())
    timed: dict[str, Callable[[list[np.ndarray]], np.ndarray]] = {
        "calibrated": OnnxExpressionClassifier(model_dir, "calibrated").classify
    }
    results["alternatives"] = {}
    for variant, fit in spec.get("alternatives", {}).items():
        combination = expressions._Combination.from_spec(model_dir, fit)
        probs = np.concatenate([combination.classify(images[i : i + 64]) for i in range(0, len(images), 64)])
        results["alternatives"][variant] = {**metrics(probs, truth), "validation": fit["validation"]}
        timed[variant] = combination.classify
        figures = results["alternatives"][variant]
        print(
            f"{variant:>22}: acc {figures['accuracy']:.4f} bal {figures['balanced_recall']:.4f} "
            f"ece {figures['ece']:.3f} | " + " ".join(f"{v:.3f}" for v in figures["recall"].values()),
            flush=True,
        )
    speed = ms_per_face_batch16(timed, images)
    results["calibrated"]["ms_per_face_batch16_one_thread"] = speed.pop("calibrated")
    for variant, timing in speed.items():
        results["alternatives"][variant]["ms_per_face_batch16_one_thread"] = timing
    results["calibrated"]["members"] = spec["members"]
    curves = {
        "own, T=1": (raw_own, truth),
        f"own, T={temperature:.2f}": (probs_by["own"], truth),
        "own+flip, faceapi+flip averaged": (equal, truth),
        "calibrated combination": (probs_by["calibrated"], truth),
    }
    docs.mkdir(parents=True, exist_ok=True)
    _plots(results, curves, docs)
    out.write_text(json.dumps(results, indent=1) + "\n")
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model-dir", type=Path, default=ROOT / "model" / "onnx")
    parser.add_argument("--labels", type=Path, default=FIXTURE_CSV)
    parser.add_argument("--training", type=Path, default=DEFAULT_DATASET)
    parser.add_argument("--docs", type=Path, default=ROOT / "docs")
    parser.add_argument("--out", type=Path, default=TRAINED_DIR / "publictest.json")
    parser.add_argument("--trained-dir", type=Path, default=TRAINED_DIR, help="own_expression.json's folder")
    args = parser.parse_args(argv)
    results = report(args.model_dir, args.labels, args.training, args.docs, args.out, args.trained_dir)
    print(f"own net: {results['own_ms_per_face_batch8_one_thread']:.3f} ms per face")
    for name, figures in {"calibrated": results["calibrated"], **results["alternatives"]}.items():
        ms = figures["ms_per_face_batch16_one_thread"]
        print(f"{name:>22}: {ms['best']:.2f} ms per face (median {ms['median']:.2f}), batches of 16")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
