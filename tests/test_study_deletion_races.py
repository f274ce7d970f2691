"""Deleting a study, or erasing an account, while a request of the same user is still writing (a study
being created, an invite being made in another tab, already past the authorizer): what that request
writes after the first sweep is swept again with the last records, as videos and analyses are, so no
study or invite of an erased account or deleted study is left behind (nor, through the study, a content
file nobody owns)."""

from __future__ import annotations

from typing import Any

import jwt
import pytest

from chalicelib.auth.tokens import AccessClaims
from chalicelib.deps import Deps, deps
from chalicelib.privacy import erase
from chalicelib.studies import service as studies
from devstack.stack import LocalStack
from tests.api_client import Api


class _UsersDeletedLast:
    """The user repository, except that requests of the user still in flight write a study and an invite
    just before the user record goes (after the erasure's sweep of studies and invites)."""

    def __init__(self, d: Deps) -> None:
        self._d, self._users = d, d.users

    def __getattr__(self, name: str) -> Any:
        return getattr(self._users, name)

    def delete(self, user_id: str) -> Any:
        content = {"filename": "late.mp4", "content_type": "video/mp4", "size": 1000, "duration": 5.0}
        created = studies.create_study(self._d, user_id, {"title": "created meanwhile", "content": content})
        studies.create_invite(self._d, user_id, created["study"]["id"], {})
        return self._users.delete(user_id)


def test_a_study_and_an_invite_written_during_the_erasure_are_erased_too(
    api: Api, stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner = api.new_account()
    d = deps()
    # The API's own authorizer checked this token (it runs in the stack's API process, with its secret).
    token = jwt.decode(owner.access_token, options={"verify_signature": False})
    claims = AccessClaims(owner.user_id, token["jti"], int(token["exp"]), token.get("fam", ""))
    monkeypatch.setattr(d, "users", _UsersDeletedLast(d))
    erase.erase_account(d, claims, {"password": owner.password}, "127.0.0.1")
    monkeypatch.undo()
    assert list(d.db.studies.find({"owner": owner.user_id})) == []
    assert list(d.db.invites.find({"owner": owner.user_id})) == []


class _StudyDeletedLast:
    """The study repository, except that an invite request still in flight writes its invite just before
    the study record goes (after DELETE /studies/{id} deleted the study's invites)."""

    def __init__(self, d: Deps) -> None:
        self._d, self._studies = d, d.studies

    def __getattr__(self, name: str) -> Any:
        return getattr(self._studies, name)

    def delete(self, owner: str, study_id: str) -> bool:
        studies.create_invite(self._d, owner, study_id, {})
        return bool(self._studies.delete(owner, study_id))


def test_an_invite_made_while_its_study_is_deleted_is_deleted_too(
    api: Api, stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner = api.new_account()
    d = deps()
    content = {"filename": "c.mp4", "content_type": "video/mp4", "size": 1000, "duration": 5.0}
    study_id = studies.create_study(d, owner.user_id, {"title": "t", "content": content})["study"]["id"]
    monkeypatch.setattr(d, "studies", _StudyDeletedLast(d))
    studies.delete_study(d, owner.user_id, study_id)
    monkeypatch.undo()
    assert list(d.db.studies.find({"_id": study_id})) == []
    assert list(d.db.invites.find({"study_id": study_id})) == []
