"""Every study lookup a request makes is by (owner, id): another user's study, viewer or invite is simply
not found (404), never forbidden, so ids reveal nothing about other accounts."""

from __future__ import annotations

import re
from typing import Any

from chalicelib.deps import Deps
from chalicelib.errors import NotFound

_ID = re.compile(r"[0-9a-f]{32}")


def valid_id(value: str | None) -> bool:
    return isinstance(value, str) and _ID.fullmatch(value) is not None


def owned_study(deps: Deps, owner: str, study_id: str | None) -> dict[str, Any]:
    study = deps.studies.get(owner, study_id) if study_id and valid_id(study_id) else None
    if study is None:
        raise NotFound("no such study")
    return study


def owned_viewer(deps: Deps, study: dict[str, Any], viewer_id: str) -> dict[str, Any]:
    viewer = deps.viewers.get(study["owner"], study["_id"], viewer_id) if valid_id(viewer_id) else None
    if viewer is None:
        raise NotFound("no such viewer in this study")
    return viewer
