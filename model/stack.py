"""`python -m model.stack`: fit the calibrated combination (see model/training/stack.py)."""

from __future__ import annotations

import sys

from model.training.stack import main

if __name__ == "__main__":
    sys.exit(main())
