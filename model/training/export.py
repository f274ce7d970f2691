"""Export the trained net to ONNX with preprocessing and temperature inside the graph.

Input `image` float32 [N,48,48,1] grayscale 0..255 (the layout of mini_xception.onnx); output `probs`
[N,7] in the project's label order (angry, disgust, fear, happy, sad, surprise, neutral).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

from model.training.net import set_memory_format


class _Deployed(nn.Module):
    def __init__(self, net: nn.Module, mean: float, std: float, temperature: float) -> None:
        super().__init__()
        self.net, self.mean, self.std, self.temperature = net, mean, std, temperature

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        x = (image.permute(0, 3, 1, 2) / 255.0 - self.mean) / self.std
        return torch.softmax(self.net(x) / self.temperature, dim=1)


def export_onnx(net: nn.Module, config: dict[str, Any], temperature: float, path: Path) -> None:
    import onnx

    set_memory_format(net.eval(), torch.contiguous_format)
    deployed = _Deployed(net, config["normalize"]["mean"], config["normalize"]["std"], temperature).eval()
    size = config["image_size"]
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.onnx")
    torch.onnx.export(
        deployed,
        (torch.zeros(1, size, size, 1),),
        str(tmp),
        input_names=["image"],
        output_names=["probs"],
        dynamic_axes={"image": {0: "n"}, "probs": {0: "n"}},
        opset_version=17,
        dynamo=False,
    )
    model = onnx.load(str(tmp))
    model.producer_name = "emotionfy model.train"
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    tmp.unlink()
