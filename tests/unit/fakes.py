"""Small in-memory fakes of the interfaces the domain code calls (Redis, a MongoDB collection, S3, Step
Functions), for the unit tier: each implements only the calls chalicelib makes, with the real service's
semantics for them, and refuses anything else loudly (a fake that guesses would hide a bug).

The tests of the real services (the stack tier) never use these: they run redis-server, SecantusDB and moto.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.deps import Deps
from chalicelib.settings import ServiceSettings


class Clock:
    """Wall-clock and monotonic time that move only when told (or when the code sleeps)."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = start

    def time(self) -> float:
        return self.now

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds

    def advance(self, seconds: float) -> None:
        self.now += seconds


# --- Redis ---------------------------------------------------------------------------------------------


def _bytes(value: Any) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).encode()


class FakeRedis:
    """Strings, hashes and sets with expiry on a `Clock`, pipelines, and Lua scripts run by a real Lua 5.1
    interpreter (lupa: Redis embeds Lua 5.1) whose `redis.call` reaches this store."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.data: dict[str, Any] = {}
        self.expires: dict[str, float] = {}

    # keys and expiry
    def _live(self, key: str) -> bool:
        deadline = self.expires.get(key)
        if deadline is not None and deadline <= self.clock.time():
            self.data.pop(key, None)
            self.expires.pop(key, None)
        return key in self.data

    def exists(self, *keys: str) -> int:
        return sum(self._live(k) for k in keys)

    def delete(self, *keys: str) -> int:
        removed = sum(self._live(k) for k in keys)
        for k in keys:
            self.data.pop(k, None)
            self.expires.pop(k, None)
        return removed

    def expire(self, key: str, seconds: float, nx: bool = False) -> bool:
        if not self._live(key) or (nx and key in self.expires):
            return False
        self.expires[key] = self.clock.time() + float(seconds)
        return True

    def pttl(self, key: str) -> int:
        if not self._live(key):
            return -2
        if key not in self.expires:
            return -1
        return math.ceil((self.expires[key] - self.clock.time()) * 1000)

    def ttl(self, key: str) -> int:
        left = self.pttl(key)
        return left if left < 0 else int((left + 500) // 1000)  # Redis rounds to the nearest second

    # strings
    def get(self, key: str) -> bytes | None:
        return self.data[key] if self._live(key) else None

    def set(self, key: str, value: Any, ex: float | None = None) -> bool:
        self.data[key] = _bytes(value)
        self.expires.pop(key, None)
        if ex is not None:
            self.expires[key] = self.clock.time() + float(ex)
        return True

    def incrby(self, key: str, amount: int) -> int:
        value = int(self.get(key) or 0) + amount
        self.data[key] = _bytes(value)
        return value

    def incr(self, key: str) -> int:
        return self.incrby(key, 1)

    def decr(self, key: str) -> int:
        return self.incrby(key, -1)

    # hashes
    def _hash(self, key: str) -> dict[bytes, bytes]:
        if not self._live(key):
            self.data[key] = {}
        found: dict[bytes, bytes] = self.data[key]
        return found

    def hset(self, key: str, mapping: dict[str, Any]) -> int:
        fields = self._hash(key)
        added = sum(_bytes(f) not in fields for f in mapping)
        fields.update({_bytes(f): _bytes(v) for f, v in mapping.items()})
        return added

    def hsetnx(self, key: str, name: str, value: Any) -> bool:
        fields = self._hash(key)
        if _bytes(name) in fields:
            return False
        fields[_bytes(name)] = _bytes(value)
        return True

    def hget(self, key: str, name: str) -> bytes | None:
        return self.data[key].get(_bytes(name)) if self._live(key) else None

    def hgetall(self, key: str) -> dict[bytes, bytes]:
        return dict(self.data[key]) if self._live(key) else {}

    # sets
    def sadd(self, key: str, *members: Any) -> int:
        if not self._live(key):
            self.data[key] = set()
        before = len(self.data[key])
        self.data[key].update(_bytes(m) for m in members)
        return len(self.data[key]) - before

    def smembers(self, key: str) -> frozenset[bytes]:
        return frozenset(self.data[key]) if self._live(key) else frozenset()

    # batches and scripts
    def pipeline(self) -> _Pipeline:
        return _Pipeline(self)

    def register_script(self, source: str) -> _Script:
        return _Script(self, source)

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(f"FakeRedis has no {name}(): add it with Redis's semantics")


class _Pipeline:
    """Queues calls and runs them in order on execute (MULTI/EXEC: nothing runs in between here)."""

    def __init__(self, redis: FakeRedis) -> None:
        self._redis = redis
        self._calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._redis, name)  # unknown commands fail here, when queued

        def queue(*args: Any, **kwargs: Any) -> _Pipeline:
            self._calls.append((method.__name__, args, kwargs))
            return self

        return queue

    def execute(self) -> list[Any]:
        results = [getattr(self._redis, name)(*args, **kwargs) for name, args, kwargs in self._calls]
        self._calls = []
        return results


class _Script:
    """A Lua script as Redis runs it: KEYS and ARGV tables of strings, `redis.call` into the store, a nil
    reply seen by Lua as false, a Lua number returned as an integer (truncated)."""

    def __init__(self, redis: FakeRedis, source: str) -> None:
        from lupa import lua51

        self._redis = redis
        self._lua = lua51.LuaRuntime(unpack_returned_tuples=True)
        self._function = self._lua.eval(f"function(KEYS, ARGV, redis) {source} end")

    def _call(self, command: str, *args: Any) -> Any:
        r, name = self._redis, str(command).upper()
        texts = [a.decode() if isinstance(a, bytes) else a for a in args]
        if name == "GET":
            value = r.get(texts[0])
            return False if value is None else value.decode()
        if name == "SET":  # SET key value EX seconds
            assert [str(t).upper() for t in texts[2:3]] == ["EX"], texts
            return r.set(texts[0], texts[1], ex=float(texts[3])) and "OK"
        if name == "EXPIRE":
            nx = len(texts) > 2 and str(texts[2]).upper() == "NX"
            return int(r.expire(texts[0], float(texts[1]), nx=nx))
        if name in ("TTL", "PTTL", "INCR", "DECR"):
            return getattr(r, name.lower())(texts[0])
        if name == "DEL":
            return r.delete(*texts)
        raise NotImplementedError(f"redis.call('{name}') is not in the fake")

    def __call__(self, keys: list[str], args: list[Any] | tuple[Any, ...] = ()) -> int | bytes | None:
        table = self._lua.table_from
        bridge = table({"call": self._call})
        result = self._function(table([str(k) for k in keys]), table([str(a) for a in args]), bridge)
        if result is None or result is False:
            return None
        if isinstance(result, (int, float)):
            return int(result)
        return _bytes(result)


# --- MongoDB -------------------------------------------------------------------------------------------

_MISSING = object()


def _path(document: dict[str, Any], dotted: str) -> Any:
    value: Any = document
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value:
            return _MISSING
        value = value[part]
    return value


def _matches_value(value: Any, condition: Any) -> bool:
    if isinstance(condition, dict) and condition and all(str(k).startswith("$") for k in condition):
        return all(_operator(value, op, arg) for op, arg in condition.items())
    if condition is None:
        return value is _MISSING or value is None  # MongoDB: null matches a missing field
    if isinstance(value, list) and not isinstance(condition, list):
        return condition in value
    return value is not _MISSING and value == condition


def _operator(value: Any, op: str, arg: Any) -> bool:
    if op == "$in":
        return any(_matches_value(value, a) for a in arg)
    if op == "$ne":
        return not _matches_value(value, arg)
    if op == "$exists":
        return (value is not _MISSING) == bool(arg)
    if op in ("$lt", "$lte", "$gt", "$gte"):
        if value is _MISSING or value is None:
            return False
        return {"$lt": value < arg, "$lte": value <= arg, "$gt": value > arg, "$gte": value >= arg}[op]
    raise NotImplementedError(f"query operator {op} is not in the fake")


def _matches(document: dict[str, Any], query: dict[str, Any]) -> bool:
    for key, condition in query.items():
        if key == "$or":
            if not any(_matches(document, q) for q in condition):
                return False
        elif key.startswith("$"):
            raise NotImplementedError(f"query operator {key} is not in the fake")
        elif not _matches_value(_path(document, key), condition):
            return False
    return True


def _parent(document: dict[str, Any], dotted: str) -> tuple[dict[str, Any], str]:
    *parents, last = dotted.split(".")
    for part in parents:
        document = document.setdefault(part, {})
    return document, last


def _apply(document: dict[str, Any], update: dict[str, Any]) -> None:
    for op, changes in update.items():
        for key, value in changes.items():
            parent, last = _parent(document, key)
            if op == "$set":
                parent[last] = copy.deepcopy(value)
            elif op == "$inc":
                parent[last] = parent.get(last, 0) + value
            elif op == "$addToSet":
                members = parent.setdefault(last, [])
                if value not in members:
                    members.append(value)
            else:
                raise NotImplementedError(f"update operator {op} is not in the fake")


@dataclass
class _Result:
    deleted_count: int = 0
    modified_count: int = 0


@dataclass
class _Cursor:
    documents: list[dict[str, Any]]

    def sort(self, key: str | list[tuple[str, int]], direction: int = 1) -> _Cursor:
        keys = [(key, direction)] if isinstance(key, str) else key
        for name, way in reversed(keys):  # stable sorts, least significant key first

            def value(document: dict[str, Any], name: str = name) -> Any:
                return _path(document, name)

            self.documents.sort(key=value, reverse=way < 0)
        return self

    def limit(self, count: int) -> _Cursor:
        self.documents = self.documents[:count]
        return self

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(copy.deepcopy(self.documents))


@dataclass
class FakeCollection:
    """The collection calls the repositories make on one document at a time (each call is atomic here, as
    a single-document operation is in MongoDB)."""

    documents: list[dict[str, Any]] = field(default_factory=list)

    def insert_one(self, document: dict[str, Any]) -> None:
        if any(d["_id"] == document["_id"] for d in self.documents):
            raise ValueError(f"duplicate _id {document['_id']}")
        self.documents.append(copy.deepcopy(document))

    def _first(self, query: dict[str, Any]) -> dict[str, Any] | None:
        return next((d for d in self.documents if _matches(d, query)), None)

    def find_one(self, query: dict[str, Any]) -> dict[str, Any] | None:
        found = self._first(query)
        return copy.deepcopy(found) if found is not None else None

    def find(self, query: dict[str, Any]) -> _Cursor:
        return _Cursor([d for d in self.documents if _matches(d, query)])

    def find_one_and_update(
        self, query: dict[str, Any], update: dict[str, Any], return_document: bool = False
    ) -> dict[str, Any] | None:
        found = self._first(query)
        if found is None:
            return None
        before = copy.deepcopy(found)
        _apply(found, update)
        return copy.deepcopy(found) if return_document else before

    def update_one(self, query: dict[str, Any], update: dict[str, Any]) -> _Result:
        found = self._first(query)
        if found is not None:
            _apply(found, update)
        return _Result(modified_count=int(found is not None))

    def delete_one(self, query: dict[str, Any]) -> _Result:
        found = self._first(query)
        if found is not None:
            self.documents.remove(found)
        return _Result(deleted_count=int(found is not None))

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(f"FakeCollection has no {name}(): add it with MongoDB's semantics")


class FakeDatabase:
    def __init__(self) -> None:
        self.videos = FakeCollection()
        self.studies = FakeCollection()  # VideoRepository counts study contents in the storage quota


# --- AWS -------------------------------------------------------------------------------------------------


class FakeS3:
    """Objects by (bucket, key): HEAD, listing by prefix (one page), batch delete."""

    def __init__(self) -> None:
        self.objects: dict[tuple[str, str], int] = {}

    def head_object(self, Bucket: str, Key: str) -> dict[str, Any]:
        if (Bucket, Key) not in self.objects:
            raise ClientError({"Error": {"Code": "404", "Message": "Not Found"}}, "HeadObject")
        return {"ContentLength": self.objects[(Bucket, Key)]}

    def get_paginator(self, operation: str) -> Any:
        assert operation in ("list_objects_v2", "list_object_versions"), operation
        s3 = self

        class Paginator:
            def paginate(self, Bucket: str, Prefix: str) -> list[dict[str, Any]]:
                keys = sorted(k for b, k in s3.objects if b == Bucket and k.startswith(Prefix))
                if operation == "list_object_versions":  # unversioned: one version, id "null"
                    return [{"Versions": [{"Key": k, "VersionId": "null"} for k in keys]}]
                return [{"Contents": [{"Key": k} for k in keys]}] if keys else [{}]

        return Paginator()

    def delete_objects(self, Bucket: str, Delete: dict[str, Any]) -> None:
        for item in Delete["Objects"]:
            self.objects.pop((Bucket, item["Key"]), None)


class _SfnErrors:
    class ExecutionAlreadyExists(Exception):
        pass

    class ExecutionDoesNotExist(Exception):
        pass


class FakeStepFunctions:
    """Executions by ARN: a name runs once per state machine (a second start is refused), as in AWS."""

    exceptions = _SfnErrors

    def __init__(self) -> None:
        self.executions: dict[str, dict[str, Any]] = {}
        self.refuse_starts = False

    def start_execution(self, stateMachineArn: str, name: str, input: str) -> dict[str, str]:
        if self.refuse_starts:
            raise ClientError({"Error": {"Code": "ServiceUnavailable", "Message": "down"}}, "StartExecution")
        arn = stateMachineArn.replace(":stateMachine:", ":execution:") + f":{name}"
        if arn in self.executions:
            raise self.exceptions.ExecutionAlreadyExists(arn)
        self.executions[arn] = {"status": "RUNNING", "input": input}
        return {"executionArn": arn}

    def describe_execution(self, executionArn: str) -> dict[str, Any]:
        if executionArn not in self.executions:
            raise self.exceptions.ExecutionDoesNotExist(executionArn)
        return {"status": self.executions[executionArn]["status"]}

    def stop_execution(self, executionArn: str, cause: str = "") -> None:
        self.describe_execution(executionArn)
        self.executions[executionArn]["status"] = "ABORTED"


def fake_deps(settings: ServiceSettings) -> Deps:
    """The real Deps (its settings, its properties) with the fakes in place of the stores and AWS clients:
    `videos` (a VideoRepository over a FakeCollection), `s3` and `stepfunctions`."""
    from chalicelib.storage.videos import VideoRepository

    made = Deps(settings)
    database: Any = FakeDatabase()
    made.__dict__.update(videos=VideoRepository(database), s3=FakeS3(), stepfunctions=FakeStepFunctions())
    return made
