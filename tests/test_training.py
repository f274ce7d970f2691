"""The training recipe's parts (`model/training/`) on small synthetic data, never the fixtures. torch is in
the `[train]` extra only (CI never trains): without it these tests skip."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests.test_training_data import _synthetic_dataset

torch = pytest.importorskip("torch")

from model.training import train  # noqa: E402
from model.training.net import ExpressionNet  # noqa: E402


@pytest.fixture
def config(tmp_path: Path) -> dict:
    config = train.load_config(train.DEFAULT_CONFIG)
    config.update(
        dataset=str(_synthetic_dataset(tmp_path / "data")),
        work_dir=str(tmp_path / "work"),
        output_onnx=str(tmp_path / "out" / "net.onnx"),
        output_report=str(tmp_path / "out" / "net.json"),
        compile=False,
        validation_fraction=0.25,
    )
    config["optimizer"]["batch_size"] = 8
    config["net"] = {"stem": [[8, 1], [8, 2]], "widths": [8, 16], "blocks": [1, 1], "dropout": 0.0}
    return config


def test_augmentation_keeps_shape_and_range_and_flips_exactly(config: dict) -> None:
    batch = torch.rand(6, 1, 48, 48) * 255
    out = train.augment(batch, config, torch.Generator().manual_seed(0))
    assert out.shape == batch.shape and out.min() >= 0 and out.max() <= 255
    flip_only = {
        **config,
        "augment": {**config["augment"], "hflip": 1.0, "rotate_degrees": 0, "scale": [1, 1]},
    }
    flip_only["augment"].update(shift_pixels=0, brightness=0.0, contrast=[1, 1])
    flipped = train.augment(batch, flip_only, torch.Generator().manual_seed(0))
    assert torch.allclose(flipped, torch.flip(batch, dims=[3]), atol=1e-3)


def test_temperature_fit_recovers_a_known_temperature() -> None:
    rng = np.random.default_rng(1)
    logits = rng.normal(0, 3, (4000, 7))
    probs = np.exp(logits / 2.5)
    probs /= probs.sum(axis=1, keepdims=True)
    truth = np.array([rng.choice(7, p=p) for p in probs])
    assert train.fit_temperature(logits, truth) == pytest.approx(2.5, rel=0.1)


def test_train_resume_and_export_onnx(config: dict, tmp_path: Path) -> None:
    import onnxruntime as ort

    first = train.train(config, resume=False, epochs=2, stop_after=1)
    assert first["stopped_after_epoch"] == 1 and not Path(config["output_onnx"]).exists()
    resumed = train.train(config, resume=True, epochs=2)  # continues after epoch 1
    assert resumed["epochs_run"] == 2 and resumed["data"]["kept"] == 41
    assert [h["epoch"] for h in resumed["history"]] == [1, 2]
    session = ort.InferenceSession(config["output_onnx"], providers=["CPUExecutionProvider"])
    assert [(i.name, i.shape[1:]) for i in session.get_inputs()] == [("image", [48, 48, 1])]
    faces = np.random.default_rng(2).integers(0, 255, (5, 48, 48, 1)).astype(np.float32)
    probs = session.run(["probs"], {"image": faces})[0]
    assert probs.shape == (5, 7) and np.allclose(probs.sum(axis=1), 1, atol=1e-5)
    net = train.build_net(config)
    net.load_state_dict(torch.load(Path(config["work_dir"]) / "best.pt", weights_only=False)["net"])
    net.eval()
    with torch.no_grad():
        x = train.normalize(torch.from_numpy(faces).permute(0, 3, 1, 2), config)
        expected = torch.softmax(net(x) / resumed["temperature"], dim=1).numpy()
    assert np.abs(probs - expected).max() < 1e-5
    assert json.loads(Path(config["output_report"]).read_text())["temperature"] == resumed["temperature"]


def test_net_size_matches_the_config() -> None:
    config = train.load_config(train.DEFAULT_CONFIG)
    net = train.build_net(config)
    assert isinstance(net, ExpressionNet)
    assert 0.5e6 <= sum(p.numel() for p in net.parameters()) <= 2e6
    assert net(torch.zeros(2, 1, 48, 48)).shape == (2, 7)
