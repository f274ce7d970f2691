"""The operations behind the /invite routes, for someone holding an invite link (no account, no JWT).

The invite token (header `X-Invite-Token`) opens its study's title, the viewer statement, the content
and joining; a joined viewer's own recording is reached with the withdraw token they were given
(header `X-Withdraw-Token`, stored hashed), and only theirs: any other viewer id, or a token that is not
that viewer's, is 404 and reveals nothing. Status and withdrawal work after the invite expired or was
revoked; everything else needs a live invite.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from chalicelib.deps import Deps
from chalicelib.errors import Conflict, NotFound
from chalicelib.studies import content, invites, viewer_consent, viewers
from chalicelib.studies.access import valid_id
from chalicelib.studies.service import content_uploaded
from chalicelib.validation import json_object


def describe(deps: Deps, token: str | None) -> dict[str, Any]:
    """What the viewer sees before agreeing: the study's title, its content's length and type, the
    viewer statement to accept, and until when the invite works."""
    invite, study = invites.resolve(deps, token)
    c = study["content"]
    return {
        "study": {"title": study["title"], "duration": c["duration"], "content_type": c["content_type"]},
        "consent": viewer_consent.statement(),
        "expires_at": invite["expires_at"].isoformat(),
    }


def content_url(deps: Deps, token: str | None) -> dict[str, Any]:
    _, study = invites.resolve(deps, token)
    if not content_uploaded(deps, study):
        raise content.not_uploaded()
    return content.playback(deps.s3, study, deps.settings.media_url_seconds)


def join(deps: Deps, token: str | None, raw_body: bytes | str | None) -> dict[str, Any]:
    """A new viewer with their own consent: a label, and the withdraw token (shown this once) that lets
    them upload their recording, follow it and withdraw it. No consent, no record (and no seat taken);
    a full invite is 409 `invite_full`. The body is read once the token opened the invite."""
    invite, study = invites.resolve(deps, token)
    agreed = viewer_consent.parse(json_object(raw_body))
    viewers.check_quotas(deps, study["owner"], 0, new_record=True)
    now = datetime.now(UTC)
    if deps.invites.take_seat(invite, now) is None:  # full, or revoked, expired or deleted meanwhile
        current = deps.invites.by_id(invite["_id"])
        if current is None:
            raise invites.invalid()
        invites.check_live(current, now)
        raise Conflict("this invite has no places left", code="invite_full")
    withdraw_token = invites.new_token()
    video = viewers.join(deps, study, invite["_id"], agreed, invites.token_hash(withdraw_token))
    return {
        "viewer": {"id": video["_id"], "label": video["viewer"]["label"]},
        "withdraw_token": withdraw_token,
    }


def _own_viewer(
    deps: Deps, token: str | None, viewer_id: str, withdraw_token: str | None, *, live: bool
) -> dict[str, Any]:
    invite, _ = invites.resolve(deps, token, live=live)
    video = None
    if valid_id(viewer_id) and withdraw_token and len(withdraw_token) <= invites.MAX_TOKEN_LENGTH:
        video = deps.viewers.by_withdraw_hash(viewer_id, invite["_id"], invites.token_hash(withdraw_token))
    if video is None:
        raise NotFound("no such viewer")
    return video


def upload(
    deps: Deps, token: str | None, viewer_id: str, withdraw_token: str | None, raw_body: bytes | str | None
) -> dict[str, Any]:
    """The presigned requests for the viewer's one recording (a live invite is needed); the body is read
    once both tokens opened the viewer."""
    video = _own_viewer(deps, token, viewer_id, withdraw_token, live=True)
    return viewers.give_upload(deps, video, json_object(raw_body))


def status(deps: Deps, token: str | None, viewer_id: str, withdraw_token: str | None) -> dict[str, Any]:
    return viewers.holder_view(_own_viewer(deps, token, viewer_id, withdraw_token, live=False))


def withdraw(deps: Deps, token: str | None, viewer_id: str, withdraw_token: str | None) -> None:
    """The viewer's recording, its results and their record are deleted; they leave the audience."""
    viewers.remove(deps, _own_viewer(deps, token, viewer_id, withdraw_token, live=False))
