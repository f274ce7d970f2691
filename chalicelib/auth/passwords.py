"""Password policy and hashing (argon2id, the `argon2-cffi` defaults tuned by its authors)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from chalicelib.errors import BadRequest

MIN_LENGTH = 10
MAX_LENGTH = 256

_hasher = PasswordHasher()
#: Verified against when the email is unknown, so a login takes as long whether or not the account exists.
_DUMMY_HASH = _hasher.hash("emotionfy-timing-equaliser")


def check_policy(password: str, email: str) -> None:
    """Long enough, not absurdly long, not one repeated character, not the email itself."""
    if len(password) < MIN_LENGTH:
        raise BadRequest(f"the password must have at least {MIN_LENGTH} characters", code="weak_password")
    if len(password) > MAX_LENGTH:
        raise BadRequest(f"the password must have at most {MAX_LENGTH} characters", code="weak_password")
    if len(set(password)) < 4:
        raise BadRequest("the password needs at least 4 different characters", code="weak_password")
    if password.strip().lower() == email.lower():
        raise BadRequest("the password must not be the email address", code="weak_password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False
