"""Password policy and hashing (argon2id, the `argon2-cffi` defaults tuned by its authors)."""

from __future__ import annotations

import re
import threading
import unicodedata

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from chalicelib.errors import BadRequest

MIN_LENGTH = 10
MAX_LENGTH = 256
#: zxcvbn's score, 0-4, from its estimate of the guesses needed: 0-2 mean fewer than 10^8 (common passwords,
#: keyboard walks, a word and a year…), 3 at least 10^8, 4 at least 10^10.
MIN_STRENGTH = 3
#: zxcvbn's own ceiling on the input (its matching grows quickly with length): longer passwords are judged
#: on their beginning, which must be strong on its own.
STRENGTH_CHECKED_LENGTH = 72
#: Control characters (tab, newline, NUL, DEL…) and invisible format characters (zero-width space, bidi
#: overrides, soft hyphen…): a password holding one cannot be typed again reliably, or hides what it is.
FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cf"})

_hasher = PasswordHasher()
#: Verified against when the email is unknown, so a login takes as long whether or not the account exists.
_DUMMY_HASH = _hasher.hash("emotionfy-timing-equaliser")
_zxcvbn_lock = threading.Lock()


def check_policy(password: str, email: str, name: str = "") -> None:
    """Long enough, not absurdly long, no control characters, not one repeated character, not the email
    itself, and not guessable: zxcvbn scores it at least `MIN_STRENGTH`, knowing the email, the name and
    the site (so `ana@example.com1` or `emotionfy2024` are weak)."""
    if len(password) < MIN_LENGTH:
        raise BadRequest(f"the password must have at least {MIN_LENGTH} characters", code="weak_password")
    if len(password) > MAX_LENGTH:
        raise BadRequest(f"the password must have at most {MAX_LENGTH} characters", code="weak_password")
    if any(unicodedata.category(c) in FORBIDDEN_CATEGORIES for c in password):
        raise BadRequest(
            "the password must not contain control or invisible characters (tab, line break, zero-width…)",
            code="invalid_password",
        )
    if len(set(password)) < 4:
        raise BadRequest("the password needs at least 4 different characters", code="weak_password")
    if password.strip().lower() == email.lower():
        raise BadRequest("the password must not be the email address", code="weak_password")
    from zxcvbn import zxcvbn  # here, not at import: its dictionaries cost the authorizer's cold start 40 ms

    with _zxcvbn_lock:  # zxcvbn keeps the user inputs in a module global while it matches
        result = zxcvbn(password[:STRENGTH_CHECKED_LENGTH], user_inputs=_personal_words(email, name))
    if result["score"] < MIN_STRENGTH:
        feedback = result["feedback"]
        advice = " ".join(filter(None, [feedback["warning"], *feedback["suggestions"]]))
        raise BadRequest(
            f"the password is too easy to guess. {advice or 'Add another word or two, or make it longer.'}",
            code="weak_password",
        )


def _personal_words(email: str, name: str) -> list[str]:
    """What an attacker knows about the account: the email, its parts, the name's words (also without
    accents, as people type them in passwords) and the site's name."""
    local_part, _, domain = email.partition("@")
    words = {email, local_part, domain, name, *re.split(r"[\W_]+", f"{local_part} {name}")}
    words |= {unicodedata.normalize("NFKD", w).encode("ascii", "ignore").decode() for w in words}
    return sorted({w.lower() for w in words if len(w) >= 3} | {"emotionfy"})


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False
