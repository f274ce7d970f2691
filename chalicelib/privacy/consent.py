"""The consent statement every upload must carry, and the record kept with the video.

Emotionfy reads the faces of people who are filmed; analysing them is only acceptable when they agreed. The
uploader says so for each video by accepting a short statement, in Spanish or English. The statement has a
version (its date): the record names the version and language the uploader saw, so what they accepted can
always be shown again. A new text gets a new version; only the current one is accepted for new uploads.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from chalicelib.errors import BadRequest
from chalicelib.settings import ConfigurationError

LANGUAGES = ("en", "es")

#: Every statement ever shown, by version: kept so that stored records can be read against their text.
STATEMENTS: dict[str, dict[str, str]] = {
    "2026-12-01": {
        "en": (
            "The people in this video agreed to be filmed and to have their facial expressions analysed "
            "by Emotionfy."
        ),
        "es": (
            "Las personas que aparecen en este vídeo aceptaron ser grabadas y que Emotionfy analice sus "
            "expresiones faciales."
        ),
    },
}


def statement(version: str) -> dict[str, Any]:
    """The body of `GET /consent`: the current version and its text in every language."""
    texts = STATEMENTS.get(version)
    if texts is None:
        raise ConfigurationError(f"EMOTIONFY_CONSENT_VERSION names no known statement: {version!r}")
    return {"version": version, "statements": dict(texts)}


@dataclass(frozen=True)
class Refusals:
    """What a refused consent says: none given (`missing`), or given to another statement than the current
    one (`outdated`, where `{version}` stands for the current version). Clients show these messages."""

    missing: str
    outdated: str


#: The refusals of an upload's consent (POST /videos).
UPLOAD_REFUSALS = Refusals(
    missing=(
        "every upload needs the consent of the people filmed: send "
        '"consent": {"given": true, "text_version", "language"} (GET /consent has the statement)'
    ),
    outdated="the consent statement accepted must be the current one, version {version} (GET /consent)",
)


def parse(
    body: dict[str, Any],
    version: str,
    now: datetime | None = None,
    refusals: Refusals = UPLOAD_REFUSALS,
) -> dict[str, Any]:
    """The consent record of a new upload (or viewer: its own `refusals`), from the request's `consent`
    object for the statement `version`; 400 when it is missing or not given (`consent_required`), for another
    statement than the current one (`consent_version_unknown`), or in a language we do not show."""
    consent = body.get("consent")
    if not isinstance(consent, dict) or consent.get("given") is not True:
        raise BadRequest(refusals.missing, code="consent_required")
    if consent.get("text_version") != version:
        raise BadRequest(refusals.outdated.format(version=version), code="consent_version_unknown")
    language = consent.get("language")
    if language not in LANGUAGES:
        raise BadRequest(f"'consent.language' must be one of {', '.join(LANGUAGES)}", code="bad_request")
    return {
        "given": True,
        "text_version": version,
        "language": language,
        "recorded_at": _milliseconds(now or datetime.now(UTC)),
    }


def _milliseconds(when: datetime) -> datetime:
    """What BSON stores: the record reads back with the time it was made with."""
    return when.replace(microsecond=when.microsecond // 1000 * 1000)


def view(video: dict[str, Any]) -> dict[str, Any] | None:
    """The public shape of a video's consent record; None for videos uploaded before consent was asked."""
    record = video.get("consent")
    if not isinstance(record, dict):
        return None
    recorded = record.get("recorded_at")
    return {
        "given": bool(record.get("given")),
        "text_version": record.get("text_version"),
        "language": record.get("language"),
        "recorded_at": recorded.isoformat() if isinstance(recorded, datetime) else recorded,
    }
