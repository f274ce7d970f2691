"""The statement a study's viewer accepts before their face is filmed, and the record kept with it.

A viewer is filmed while watching a creator's content, so the viewer agrees for themselves (not the
uploader for the people in a video, as `chalicelib/privacy/consent.py` asks): a statement of its own, in
Spanish and English, versioned the same way. The record has the same shape as an upload's consent and is
stored in the viewer's video record (`consent`), so it is shown, exported and erased with it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib.privacy import consent

#: The statement new viewers accept.
VERSION = "viewer-2026-12-07"

#: Every viewer statement ever shown, by version: stored records are read against their text.
STATEMENTS: dict[str, dict[str, str]] = {
    VERSION: {
        "en": (
            "I agree that my face is filmed while I watch this content and that Emotionfy reads my facial "
            "expressions from the recording for its creator. My name is not recorded; I can withdraw and "
            "delete my recording at any time from this page."
        ),
        "es": (
            "Acepto que se grabe mi cara mientras veo este contenido y que Emotionfy lea mis expresiones "
            "faciales en la grabación para quien lo creó. Mi nombre no se registra; puedo retirarme y "
            "borrar mi grabación en cualquier momento desde esta página."
        ),
    },
}


def statement() -> dict[str, Any]:
    """The current viewer statement: `{version, statements: {en, es}}`."""
    return {"version": VERSION, "statements": dict(STATEMENTS[VERSION])}


#: The refusals of a viewer's consent (POST /studies/{id}/viewers, POST /invite/viewers).
REFUSALS = consent.Refusals(
    missing=(
        "a viewer is filmed only with their own consent: send "
        '"consent": {"given": true, "text_version", "language"} for the viewer statement '
        "(GET /consent, `viewer`; GET /invite, `consent`)"
    ),
    outdated="the viewer statement accepted must be the current one, version {version}",
)


def parse(body: dict[str, Any], now: datetime | None = None) -> dict[str, Any]:
    """The consent record of a new viewer from the request's `consent` object, for the current viewer
    statement; 400 as for an upload's consent (chalicelib/privacy/consent.py), in the viewer's words."""
    return consent.parse(body, VERSION, now, REFUSALS)
