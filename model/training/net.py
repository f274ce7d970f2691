"""The compact expression net: a small ResNet for 48x48 grayscale faces (preprocessing kept outside)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn


class _Block(nn.Module):
    """Two 3x3 convs with batch norm and an identity (or 1x1 strided) shortcut."""

    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + self.shortcut(x))


class ExpressionNet(nn.Module):
    """Stem convs (width, stride), a residual stage per width (each after the first halves the size), FC.

    Input: [N, 1, H, W] already normalised; output: logits over the seven project labels."""

    def __init__(
        self,
        stem: Sequence[Sequence[int]],
        widths: Sequence[int],
        blocks: Sequence[int],
        dropout: float,
        classes: int = 7,
    ) -> None:
        super().__init__()
        stem_layers: list[nn.Module] = []
        cin = 1
        for width, stride in stem:
            conv = nn.Conv2d(cin, width, 3, stride, 1, bias=False)
            stem_layers += [conv, nn.BatchNorm2d(width), nn.ReLU(inplace=True)]
            cin = width
        self.stem = nn.Sequential(*stem_layers)
        layers: list[nn.Module] = []
        for i, (width, count) in enumerate(zip(widths, blocks, strict=True)):
            for j in range(count):
                layers.append(_Block(cin, width, 2 if (i > 0 and j == 0) else 1))
                cin = width
        self.stages = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(cin, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool(self.stages(self.stem(x))).flatten(1)
        return self.fc(self.dropout(x))


def set_memory_format(model: nn.Module, memory_format: torch.memory_format) -> nn.Module:
    """`model.to(memory_format=...)` (channels-last trains faster on the CPU), typed for mypy."""
    for tensor in [*model.parameters(), *model.buffers()]:
        if tensor.dim() == 4:
            tensor.data = tensor.data.contiguous(memory_format=memory_format)
    return model


def parameter_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
