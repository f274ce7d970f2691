"""Many users at once, and stores failing mid-run, on the local stack: is anything lost, failed or stuck?

Scenarios (each on a fresh stack on free ports; the local watchdog runs every 5 s with a 20 s staleness
delay so recoveries show within the run):

- `30 users`: 30 accounts sign up and upload a valid fixture video each, all at once (threads).
- `redis paused 20 s`: 5 videos processing, redis-server SIGSTOPped for 20 s, then SIGCONT.
- `redis killed`: 5 videos processing, redis-server SIGKILLed and started again 5 s later.
- `mongodb down 75 s`: 5 videos processing, SecantusDB SIGKILLed and started again 75 s later.

Each video must end `done` with its results readable; the table counts done, done without results
(the reported data loss), failed and stuck, and the time from the first upload to the last `done`.
Rewrites the concurrency section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import requests

from bench.report import markers, write_section
from devstack.services import free_port
from devstack.stack import LocalStack, Ports
from tests.api_client import Account, Api
from tests.synthetic import VIDEOS_DIR

VIDEOS = sorted(VIDEOS_DIR.glob("*.mp4"))
SETTINGS = {
    "EMOTIONFY_WATCHDOG_INTERVAL_SECONDS": "5",
    "EMOTIONFY_WATCHDOG_STALE_SECONDS": "20",
    "EMOTIONFY_REGISTRATIONS_PER_IP": "1000",
    "MONGODB_TIMEOUT_MS": "1500",
    "REDIS_TIMEOUT_SECONDS": "1",
    "POWERTOOLS_LOG_LEVEL": "CRITICAL",
}
TIMEOUT = 900.0


def _get(api: Api, account: Account, path: str) -> requests.Response | None:
    try:
        response = api.call("GET", path, account)
    except requests.RequestException:
        return None
    return None if response.status_code == 503 else response


def _refresh(api: Api, account: Account) -> None:
    tokens = api.call("POST", "/auth/refresh", json={"refresh_token": account.refresh_token})
    if tokens.status_code == 200:
        account.access_token = tokens.json()["access_token"]
        account.refresh_token = tokens.json()["refresh_token"]


def _outcome(api: Api, account: Account, video_id: str, deadline: float) -> tuple[str, float]:
    """done | done_without_results | failed | stuck, and when it was seen settled (perf_counter)."""
    while time.perf_counter() < deadline:
        response = _get(api, account, f"/videos/{video_id}")
        if response is not None and response.status_code == 401:
            _refresh(api, account)  # an outage outlived the access token
            continue
        if response is not None and response.status_code == 200:
            status = response.json()["status"]
            if status == "failed":
                return "failed", time.perf_counter()
            if status == "done":
                settled = time.perf_counter()
                while time.perf_counter() < deadline:
                    results = _get(api, account, f"/videos/{video_id}/results")
                    if results is not None:
                        return ("done" if results.status_code == 200 else "done_without_results"), settled
                    time.sleep(0.5)
        time.sleep(0.5)
    return "stuck", time.perf_counter()


def run(users: int, fault: Callable[[LocalStack], None] | None) -> dict[str, Any]:
    ports = Ports(api=free_port(), site=free_port(), moto=free_port(), redis=free_port(), mongo=free_port())
    with tempfile.TemporaryDirectory() as data:
        stack = LocalStack(Path(data), ports, settings=SETTINGS, persist_uploads=True, serve_site=False)
        stack.start()
        try:
            api = Api(stack.api_url)
            accounts = [api.new_account() for _ in range(users)]
            videos = [VIDEOS[i % len(VIDEOS)] for i in range(users)]
            started = time.perf_counter()
            with ThreadPoolExecutor(users) as pool:
                uploads = zip(accounts, videos, strict=True)
                ids = list(pool.map(lambda a_v: Api(stack.api_url).upload(*a_v), uploads))
            if fault is not None:
                threading.Thread(target=fault, args=(stack,), daemon=True).start()
            deadline = started + TIMEOUT
            with ThreadPoolExecutor(users) as pool:
                outcomes = list(
                    pool.map(
                        lambda a_i: _outcome(Api(stack.api_url), a_i[0], a_i[1], deadline),
                        zip(accounts, ids, strict=True),
                    )
                )
        finally:
            stack.stop()
    counts = {
        k: sum(1 for o, _ in outcomes if o == k) for k in ("done", "done_without_results", "failed", "stuck")
    }
    video_seconds = sum(_duration(v) for v in videos)
    return {
        **counts,
        "users": users,
        "seconds": max(t for _, t in outcomes) - started,
        "video_seconds": video_seconds,
    }


def _duration(path: Path) -> float:
    from chalicelib.engine.video import probe

    return probe(path).duration


def _redis_paused(stack: LocalStack) -> None:
    time.sleep(2)
    stack.redis.pause()
    time.sleep(20)
    stack.redis.resume()


def _redis_killed(stack: LocalStack) -> None:
    time.sleep(2)
    stack.redis.kill()
    time.sleep(5)
    stack.redis.start()


def _mongodb_down(stack: LocalStack) -> None:
    time.sleep(2)
    stack.mongo.kill()
    time.sleep(75)
    stack.mongo.start()


SCENARIOS: dict[str, tuple[int, Callable[[LocalStack], None] | None]] = {
    "30 users at once": (30, None),
    "5 videos, redis paused 20 s": (5, _redis_paused),
    "5 videos, redis killed, back after 5 s": (5, _redis_killed),
    "5 videos, mongodb killed, back after 75 s": (5, _mongodb_down),
}


def render(results: dict[str, dict[str, Any]]) -> str:
    begin, end = markers("concurrency")
    lines = [
        begin,
        f"Measured on {platform.processor() or platform.machine()}, {os.cpu_count()} cores; each scenario "
        "on a fresh local stack (`python -m bench.concurrency`). Fixture videos in turn; the watchdog runs "
        "every 5 s and acts on videos unchanged for 20 s. Time: first upload to the last video settled.",
        "",
        "| scenario | videos | video-s | done with results | done without results | failed | stuck "
        "| time (s) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, r in results.items():
        lines.append(
            f"| {name} | {r['users']} | {r['video_seconds']:.0f} | {r['done']} | "
            f"{r['done_without_results']} | {r['failed']} | {r['stuck']} | {r['seconds']:.0f} |"
        )
    lines.append(end)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md")
    parser.add_argument("--only", choices=list(SCENARIOS), help="run one scenario")
    args = parser.parse_args(argv)
    chosen = {args.only: SCENARIOS[args.only]} if args.only else SCENARIOS
    results = {}
    for name, (users, fault) in chosen.items():
        results[name] = run(users, fault)
        print(name, results[name], flush=True)
    section = render(results)
    print(section)
    if not args.no_write and not args.only:
        write_section("concurrency", "Many users and failing stores (`make bench`)", section)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
