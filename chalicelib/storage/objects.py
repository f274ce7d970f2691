"""An S3 object as a seekable, read-only file, fetched by byte ranges.

The pipeline gives the decoder this instead of a URL: a segment step reads only the blocks it decodes (an
MP4's index at the end, then its own part of the media data), FFmpeg never opens a network connection, and
a storage failure is told apart from a bad video: it raises `SourceUnavailable`, which the state machine
retries, and it is remembered in `error` because FFmpeg may swallow the exception into a generic error.
"""

from __future__ import annotations

import io
from collections import OrderedDict
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.engine.errors import SourceUnavailable, VideoError
from chalicelib.uploads import MISSING_OBJECT_CODES

#: Read granularity: one GET per block; a few blocks stay cached for the decoder's back-and-forth seeks.
BLOCK_BYTES = 1024 * 1024
CACHED_BLOCKS = 8


class S3ObjectReader(io.RawIOBase):
    def __init__(self, s3: Any, bucket: str, key: str, size: int | None = None) -> None:
        super().__init__()
        self._s3, self._bucket, self._key = s3, bucket, key
        self._position = 0
        self._blocks: OrderedDict[int, bytes] = OrderedDict()
        self.error: SourceUnavailable | None = None
        self.size = size if size is not None else self._head()

    def _call(self, what: str, **kwargs: Any) -> Any:
        try:
            return getattr(self._s3, what)(Bucket=self._bucket, Key=self._key, **kwargs)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in MISSING_OBJECT_CODES:
                raise VideoError("the uploaded video is no longer in storage") from exc
            self.error = SourceUnavailable(f"storage refused a read ({code or 'unknown error'})")
            raise self.error from exc
        except BotoCoreError as exc:
            self.error = SourceUnavailable(f"storage could not be reached ({type(exc).__name__})")
            raise self.error from exc

    def _head(self) -> int:
        return int(self._call("head_object")["ContentLength"])

    def _block(self, index: int) -> bytes:
        if index in self._blocks:
            self._blocks.move_to_end(index)
            return self._blocks[index]
        first = index * BLOCK_BYTES
        last = min(self.size, first + BLOCK_BYTES) - 1
        body = self._call("get_object", Range=f"bytes={first}-{last}")["Body"]
        try:
            data = body.read()
        except (BotoCoreError, OSError) as exc:
            self.error = SourceUnavailable(f"storage stopped sending ({type(exc).__name__})")
            raise self.error from exc
        if len(data) != last - first + 1:
            self.error = SourceUnavailable("storage sent a short read")
            raise self.error
        self._blocks[index] = data
        if len(self._blocks) > CACHED_BLOCKS:
            self._blocks.popitem(last=False)
        return data

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self.size}[whence]
        self._position = max(0, base + offset)
        return self._position

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            size = self.size - self._position
        size = max(0, min(size, self.size - self._position))
        parts = []
        while size > 0:
            index, offset = divmod(self._position, BLOCK_BYTES)
            chunk = self._block(index)[offset : offset + size]
            parts.append(chunk)
            self._position += len(chunk)
            size -= len(chunk)
        return b"".join(parts)

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)
