"""`python -m devstack` (what `make run` runs): the whole stack on loopback until Ctrl-C or SIGTERM."""

from __future__ import annotations

import argparse
import signal
import threading
from pathlib import Path

from devstack.stack import LocalStack, Ports


def main() -> None:
    parser = argparse.ArgumentParser(prog="devstack", description=__doc__)
    parser.add_argument(
        "--data-dir", type=Path, default=Path(".local"), help="where Redis, MongoDB and S3 keep data"
    )
    parser.add_argument("--api-port", type=int, default=8000)
    parser.add_argument("--cors-origin", default="http://127.0.0.1:8080")
    args = parser.parse_args()
    stack = LocalStack(args.data_dir.resolve(), Ports(api=args.api_port), cors_origin=args.cors_origin)
    stopping = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopping.set())
    print("starting redis-server, SecantusDB, moto and the API ...", flush=True)
    stack.start()
    print(
        f"Emotionfy is running.\n"
        f"  API          {stack.api_url}   (try: curl {stack.api_url}/health)\n"
        f"  moto (AWS)   {stack.moto.url}   bucket {stack.bucket}, state machine {stack.state_machine_arn}\n"
        f"  MongoDB      {stack.mongo.uri}\n"
        f"  Redis        {stack.redis.url}\n"
        f"  data         {args.data_dir}/\n"
        f"Ctrl-C stops everything.",
        flush=True,
    )
    stopping.wait()
    print("stopping ...", flush=True)
    stack.stop()
    print("stopped.", flush=True)


if __name__ == "__main__":
    main()
