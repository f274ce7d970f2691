"""Train the project's own expression net on FER2013 Training: `python -m model.train [--resume]`.

The whole recipe is `model/train_config.json`. Faces are deduplicated by SHA-256, a stratified 10% of them
is held out for validation (early stopping on balanced recall, temperature scaling), and the best epoch is
exported to ONNX with its preprocessing and temperature inside the graph. Needs the `[train]` extra.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from model.build import TRAINED_DIR, record_trained
from model.training.data import LABELS, ROOT, load_training_set
from model.training.export import export_onnx
from model.training.net import ExpressionNet, parameter_count, set_memory_format

DEFAULT_CONFIG = ROOT / "model" / "train_config.json"


def load_config(path: Path) -> dict[str, Any]:
    with open(path) as handle:
        config: dict[str, Any] = json.load(handle)
    return config


def _resolve(path: str) -> Path:
    return Path(path) if os.path.isabs(path) else ROOT / path


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def build_net(config: dict[str, Any]) -> ExpressionNet:
    net = config["net"]
    return ExpressionNet(net["stem"], net["widths"], net["blocks"], net["dropout"], classes=len(LABELS))


def normalize(images: torch.Tensor, config: dict[str, Any]) -> torch.Tensor:
    """uint8-valued [N,1,H,W] -> the net's input (the ONNX graph does the same)."""
    return (images / 255.0 - config["normalize"]["mean"]) / config["normalize"]["std"]


def augment(batch: torch.Tensor, config: dict[str, Any], generator: torch.Generator) -> torch.Tensor:
    """Random flip, rotation, scale and shift (one affine warp per face), then brightness and contrast.

    `batch` is [N,1,H,W] float in 0..255; the result too (clipped)."""
    aug = config["augment"]
    n, _, h, _ = batch.shape

    def uniform(low: float, high: float) -> torch.Tensor:
        return low + (high - low) * torch.rand(n, generator=generator)

    angle = uniform(-aug["rotate_degrees"], aug["rotate_degrees"]) * math.pi / 180
    scale = uniform(*aug["scale"])
    flip = torch.where(torch.rand(n, generator=generator) < aug["hflip"], -1.0, 1.0)
    shift = aug["shift_pixels"] * 2 / h
    tx, ty = uniform(-shift, shift), uniform(-shift, shift)
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack(
        [torch.stack([cos * flip, -sin, tx], 1), torch.stack([sin * flip, cos, ty], 1)], 1
    )  # output pixel -> input pixel, flip applied first
    grid = F.affine_grid(theta, list(batch.shape), align_corners=False)
    out = F.grid_sample(batch, grid, mode="bilinear", padding_mode="border", align_corners=False)
    mean = out.mean(dim=(1, 2, 3), keepdim=True)
    contrast = uniform(*aug["contrast"]).view(n, 1, 1, 1)
    brightness = (uniform(-aug["brightness"], aug["brightness"]) * 255).view(n, 1, 1, 1)
    return ((out - mean) * contrast + mean + brightness).clamp(0, 255)


def class_weights(labels: np.ndarray, power: float) -> torch.Tensor:
    counts = np.bincount(labels, minlength=len(LABELS)).astype(np.float64)
    weights = (counts.sum() / (len(LABELS) * counts)) ** power
    return torch.tensor(weights / (weights * counts).sum() * counts.sum(), dtype=torch.float32)


@torch.no_grad()
def predict_logits(
    net: nn.Module, images: np.ndarray, config: dict[str, Any], flip: bool = False
) -> np.ndarray:
    net.eval()
    out = []
    for i in range(0, len(images), 512):
        x = normalize(torch.from_numpy(images[i : i + 512]).float().unsqueeze(1), config)
        logits = net(x)
        if flip:
            logits = (logits + net(torch.flip(x, dims=[3]))) / 2
        out.append(logits.numpy())
    return np.concatenate(out)


def recall_per_class(predicted: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Recall of every class (NaN for a class absent from `truth`)."""
    return np.array(
        [(predicted[truth == k] == k).mean() if (truth == k).any() else np.nan for k in range(len(LABELS))]
    )


def fit_temperature(logits: np.ndarray, truth: np.ndarray) -> float:
    """The temperature minimising validation log-loss (golden-section search on log T in [-3, 3])."""

    def nll(log_t: float) -> float:
        z = logits / math.exp(log_t)
        z = z - z.max(axis=1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        return float(-logp[np.arange(len(truth)), truth].mean())

    low, high = -3.0, 3.0
    ratio = (math.sqrt(5) - 1) / 2
    for _ in range(80):
        a, b = high - ratio * (high - low), low + ratio * (high - low)
        if nll(a) < nll(b):
            high = b
        else:
            low = a
    return math.exp((low + high) / 2)


def _checkpoint(path: Path, state: dict[str, Any]) -> None:
    tmp = path.with_suffix(".tmp")
    torch.save(state, tmp)
    tmp.replace(path)


def train(
    config: dict[str, Any],
    resume: bool,
    epochs: int | None = None,
    limit: int | None = None,
    stop_after: int | None = None,
) -> dict[str, Any]:
    """Train (or continue), then export the best epoch; `stop_after` epochs end this run early."""
    started = time.time()
    seed_everything(config["seed"])
    torch.set_num_threads(config["threads"])
    work = _resolve(config["work_dir"])
    work.mkdir(parents=True, exist_ok=True)
    data = load_training_set(_resolve(config["dataset"]), config["image_size"])
    # The split has its own seed so that a second member (another training seed) holds out the very same
    # validation faces, which the combination is then fitted on.
    split_seed = config.get("split_seed", config["seed"])
    train_idx, val_idx = data.split(config["validation_fraction"], split_seed)
    if limit:  # smoke tests: a small stratified-enough subset
        rng = np.random.default_rng(config["seed"])
        train_idx = np.sort(rng.permutation(train_idx)[:limit])
        val_idx = np.sort(rng.permutation(val_idx)[: max(limit // 4, 64)])
    x_train, y_train = data.images[train_idx], data.labels[train_idx]
    x_val, y_val = data.images[val_idx], data.labels[val_idx]
    print(f"data: {data.stats}; train {len(train_idx)}, validation {len(val_idx)}", flush=True)

    net = build_net(config)
    set_memory_format(net, torch.channels_last)
    params = parameter_count(net)
    opt_cfg = config["optimizer"]
    optimizer = torch.optim.AdamW(net.parameters(), lr=opt_cfg["lr"], weight_decay=opt_cfg["weight_decay"])
    total_epochs = epochs or config["epochs"]
    batch_size = opt_cfg["batch_size"]
    steps_per_epoch = len(x_train) // batch_size
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer,
        max_lr=opt_cfg["lr"],
        total_steps=total_epochs * steps_per_epoch,
        pct_start=config["schedule"]["pct_start"],
    )
    generator = torch.Generator().manual_seed(config["seed"])
    weights = class_weights(y_train, config["class_weight_power"])
    history: list[dict[str, Any]] = []
    best = {"balanced_recall": -1.0, "epoch": -1}
    start_epoch = 0
    elapsed_before = 0.0
    last_path, best_path = work / "last.pt", work / "best.pt"
    if resume and last_path.exists():
        state = torch.load(last_path, weights_only=False)
        net.load_state_dict(state["net"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        generator.set_state(state["generator"])
        torch.set_rng_state(state["torch_rng"])
        history, best, start_epoch = state["history"], state["best"], state["epoch"] + 1
        elapsed_before = state["elapsed"]
        print(f"resumed after epoch {state['epoch'] + 1}", flush=True)
    model: nn.Module = torch.compile(net) if config["compile"] else net  # type: ignore[assignment,unused-ignore]
    criterion = nn.CrossEntropyLoss(weight=weights, label_smoothing=config["label_smoothing"])
    x_train_t = torch.from_numpy(x_train).float().unsqueeze(1)
    y_train_t = torch.from_numpy(y_train)
    session_start = time.time()
    for epoch in range(start_epoch, total_epochs):
        if epoch - best["epoch"] > config["early_stopping_patience"] and best["epoch"] >= 0:
            print(f"early stop: no better balanced recall since epoch {best['epoch'] + 1}", flush=True)
            break
        epoch_start = time.time()
        model.train()
        order = torch.randperm(len(x_train_t), generator=generator)
        total_loss = 0.0
        for step in range(steps_per_epoch):
            idx = order[step * batch_size : (step + 1) * batch_size]
            batch = augment(x_train_t[idx], config, generator)
            x = normalize(batch, config).contiguous(memory_format=torch.channels_last)
            loss = criterion(model(x), y_train_t[idx])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
            total_loss += float(loss.detach())
        train_seconds = time.time() - epoch_start
        logits = predict_logits(net, x_val, config)
        recall = recall_per_class(logits.argmax(1), y_val)
        record = {
            "epoch": epoch + 1,
            "loss": total_loss / steps_per_epoch,
            "val_accuracy": float((logits.argmax(1) == y_val).mean()),
            "val_balanced_recall": float(np.nanmean(recall)),
            "val_recall": dict(zip(LABELS, map(float, recall), strict=True)),
            "images_per_second": steps_per_epoch * batch_size / train_seconds,
            "seconds": time.time() - epoch_start,
        }
        history.append(record)
        print(json.dumps(record), flush=True)
        if record["val_balanced_recall"] > best["balanced_recall"]:
            best = {"balanced_recall": record["val_balanced_recall"], "epoch": epoch}
            _checkpoint(best_path, {"net": net.state_dict(), "epoch": epoch})
        _checkpoint(
            last_path,
            {
                "net": net.state_dict(),
                "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(),
                "generator": generator.get_state(),
                "torch_rng": torch.get_rng_state(),
                "history": history,
                "best": best,
                "epoch": epoch,
                "elapsed": elapsed_before + time.time() - session_start,
            },
        )
        if stop_after is not None and epoch + 1 - start_epoch >= stop_after and epoch + 1 < total_epochs:
            print(f"stopped after epoch {epoch + 1}: continue with --resume", flush=True)
            return {"stopped_after_epoch": epoch + 1, "history": history}
    training_seconds = elapsed_before + time.time() - session_start

    net.load_state_dict(torch.load(best_path, weights_only=False)["net"])
    logits = predict_logits(net, x_val, config)
    temperature = fit_temperature(logits, y_val)
    recall = recall_per_class(logits.argmax(1), y_val)
    onnx_path = _resolve(config["output_onnx"])
    export_onnx(net, config, temperature, onnx_path)
    report = {
        "parameters": params,
        "data": data.stats,
        "train_faces": len(train_idx),
        "validation_faces": len(val_idx),
        "best_epoch": best["epoch"] + 1,
        "epochs_run": len(history),
        "validation_accuracy": float((logits.argmax(1) == y_val).mean()),
        "validation_balanced_recall": float(np.nanmean(recall)),
        "temperature": temperature,
        "training_seconds": round(training_seconds, 1),
        "wall_seconds_this_run": round(time.time() - started, 1),
        "torch": torch.__version__,
        "history": history,
    }
    report_path = _resolve(config["output_report"])
    report_path.write_text(json.dumps(report, indent=1) + "\n")
    if onnx_path.parent == TRAINED_DIR:
        record_trained(onnx_path.name)
    print(f"wrote {onnx_path} and {report_path}; temperature {temperature:.3f}", flush=True)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG)
    parser.add_argument("--resume", action="store_true", help="continue from the last epoch's checkpoint")
    parser.add_argument("--epochs", type=int, help="override the config's epoch count (smoke runs)")
    parser.add_argument("--limit", type=int, help="train on this many faces only (smoke runs)")
    parser.add_argument("--stop-after", type=int, help="end this run after N epochs (resume later)")
    args = parser.parse_args(argv)
    config = load_config(args.config)
    train(config, args.resume, args.epochs, args.limit, args.stop_after)
    return 0


if __name__ == "__main__":
    sys.exit(main())
