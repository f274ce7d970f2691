"""Upload keys: what a client may name a file, and what the S3 event handler accepts as one of ours."""

from __future__ import annotations

import pytest

from chalicelib.uploads import parse_upload_key, safe_filename, upload_key

USER = "u_" + "ab" * 12
VIDEO = "0123456789abcdef" * 2


@pytest.mark.parametrize(
    ("raw", "safe"),
    [
        ("clip.mp4", "clip.mp4"),
        ("Mi vídeo (final).MOV", "Mi_video_final_.MOV"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\ana\\talk.webm", "talk.webm"),
        ("...", "video"),
        ("🎬.mp4", "mp4"),
        ("a" * 300 + ".mp4", "a" * 116 + ".mp4"),
    ],
)
def test_safe_filename(raw: str, safe: str) -> None:
    assert safe_filename(raw) == safe


def test_keys_round_trip() -> None:
    key = upload_key(USER, VIDEO, "my talk.mp4")
    assert key == f"uploads/{USER}/{VIDEO}/my_talk.mp4"
    parsed = parse_upload_key(key)
    assert parsed is not None and (parsed.user_id, parsed.video_id, parsed.filename) == (
        USER,
        VIDEO,
        "my_talk.mp4",
    )
    # Decoding is the S3 event handler's, once (chalicelib/pipeline/start.py): an encoded key is not one.
    assert parse_upload_key(f"uploads/{USER}/{VIDEO}/a%2Eb.mp4") is None


@pytest.mark.parametrize(
    "key",
    [
        f"segments/{VIDEO}/0000.json",
        f"uploads/{USER}/{VIDEO}/",
        f"uploads/{USER}/{VIDEO}/a/b.mp4",
        f"uploads/{USER}/{VIDEO[:-1]}/a.mp4",
        f"uploads/user/{VIDEO}/a.mp4",
        f"uploads/{USER}/{VIDEO}/../../x.mp4",
        f"uploads/{USER}/{VIDEO}/a b.mp4",
    ],
)
def test_keys_that_are_not_uploads_are_refused(key: str) -> None:
    assert parse_upload_key(key) is None
