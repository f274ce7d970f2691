"""`python -m model.train`: train the project's own expression net (see model/training/train.py)."""

from __future__ import annotations

import sys

from model.training.train import main

if __name__ == "__main__":
    sys.exit(main())
