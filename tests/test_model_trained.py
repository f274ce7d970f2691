"""model.build installs the committed trained files only when their recorded SHA-256 matches."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from model.build import TRAINED_DIR, TRAINED_FILES, install_trained, record_trained


def test_committed_trained_files_match_their_recorded_hashes(tmp_path: Path) -> None:
    manifest: dict[str, dict[str, str]] = {}
    assert install_trained(tmp_path, manifest) == list(TRAINED_FILES)
    recorded = json.loads((TRAINED_DIR / "manifest.json").read_text())
    for name in TRAINED_FILES:
        assert (tmp_path / name).read_bytes() == (TRAINED_DIR / name).read_bytes()
        assert manifest[name] == {"sha256": recorded[name], "source": f"model/trained/{name}"}
    assert install_trained(tmp_path, manifest) == []  # up to date: nothing copied again


def test_a_changed_trained_file_is_refused(tmp_path: Path) -> None:
    trained = tmp_path / "trained"
    trained.mkdir()
    for name in TRAINED_FILES:
        shutil.copyfile(TRAINED_DIR / name, trained / name)
        record_trained(name, trained)
    with open(trained / "calibrated.json", "a") as handle:
        handle.write(" ")
    (tmp_path / "out").mkdir()
    with pytest.raises(RuntimeError, match="does not match the SHA-256"):
        install_trained(tmp_path / "out", {}, trained)
    record_trained("calibrated.json", trained)  # after a new fit, recording makes it installable
    assert install_trained(tmp_path / "out", {}, trained) == list(TRAINED_FILES)
