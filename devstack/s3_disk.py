"""moto keeps S3 in memory; this writes the local stack's bucket through to disk, object by object.

Every stored object is written to `root/<bucket>/<key>` (a temporary file, fsync, rename) *before* moto
stores it and sends its ObjectCreated event, and deleted files follow deleted objects; so a `kill -9` of
the local stack loses no upload, and the next start loads the objects back. Like the Lambda adapter, this
hooks into moto's in-process backend (moto runs in the stack's process).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

_PARTIAL = ".partial"


class S3OnDisk:
    def __init__(self, root: Path, buckets: set[str]) -> None:
        self.root = root.resolve()
        self.buckets = set(buckets)
        self._originals: dict[str, Callable[..., Any]] = {}

    def path(self, bucket: str, key: str) -> Path | None:
        """Where an object lives on disk; None for keys that would leave the bucket's folder."""
        base = (self.root / bucket).resolve()
        target = (base / key).resolve()
        if key.endswith(("/", _PARTIAL)) or not target.is_relative_to(base) or target == base:
            return None
        return target

    def write(self, bucket: str, key: str, value: bytes) -> None:
        target = self.path(bucket, key)
        if target is None:
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + _PARTIAL)
        with partial.open("wb") as file:
            file.write(value)
            file.flush()
            os.fsync(file.fileno())
        os.replace(partial, target)
        directory = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(directory)  # the rename itself survives a power cut, not only a killed process
        finally:
            os.close(directory)

    def remove(self, bucket: str, key: str) -> None:
        target = self.path(bucket, key)
        if target is not None:
            target.unlink(missing_ok=True)

    def stored(self, bucket: str) -> list[tuple[str, Path]]:
        """(key, file) of every object saved for `bucket`; half-written files are left out and removed."""
        base = self.root / bucket
        found = []
        for path in sorted(base.rglob("*")) if base.is_dir() else []:
            if path.name.endswith(_PARTIAL):
                path.unlink(missing_ok=True)
            elif path.is_file():
                found.append((path.relative_to(base).as_posix(), path))
        return found

    def install(self) -> None:
        from moto.s3.models import S3Backend

        disk = self
        put_object, delete_object = S3Backend.put_object, S3Backend.delete_object

        def put(
            backend: Any, bucket_name: str, key_name: str, value: bytes, *args: Any, **kwargs: Any
        ) -> Any:
            if bucket_name in disk.buckets:
                disk.write(bucket_name, key_name, bytes(value))
            return put_object(backend, bucket_name, key_name, value, *args, **kwargs)

        def delete(backend: Any, bucket_name: str, key_name: str, *args: Any, **kwargs: Any) -> Any:
            result = delete_object(backend, bucket_name, key_name, *args, **kwargs)
            if bucket_name in disk.buckets:
                disk.remove(bucket_name, key_name)
            return result

        self._originals = {"put_object": put_object, "delete_object": delete_object}
        S3Backend.put_object = put  # type: ignore[method-assign,assignment]
        S3Backend.delete_object = delete  # type: ignore[method-assign,assignment]

    def uninstall(self) -> None:
        from moto.s3.models import S3Backend

        for name, original in self._originals.items():
            setattr(S3Backend, name, original)
        self._originals = {}
