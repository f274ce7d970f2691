"""`python -m devstack` (what `make run` runs): the whole stack on loopback until Ctrl-C or SIGTERM."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

from devstack.stack import LocalStack, Ports


def main() -> None:
    parser = argparse.ArgumentParser(prog="devstack", description=__doc__)
    parser.add_argument(
        "--data-dir", type=Path, default=Path(".local"), help="where Redis, MongoDB and S3 keep data"
    )
    defaults = Ports()
    for part in ("api", "site", "moto", "redis", "mongo"):
        parser.add_argument(f"--{part}-port", type=int, default=getattr(defaults, part))
    parser.add_argument("--cors-origin", default=None, help="the web app's origin (default: its local URL)")
    args = parser.parse_args()
    ports = Ports(
        api=args.api_port,
        site=args.site_port,
        moto=args.moto_port,
        redis=args.redis_port,
        mongo=args.mongo_port,
    )
    origin = args.cors_origin or f"http://127.0.0.1:{ports.site}"
    stack = LocalStack(args.data_dir.resolve(), ports, cors_origin=origin)
    busy = stack.busy_ports()
    if busy:
        for name, port in busy:
            print(f"port {port} ({name}) is already in use by another program.", file=sys.stderr)
        choices = " ".join(f"{name.upper()}_PORT={port + 1}" for name, port in busy)
        print(
            f"Stop that program or pick other ports, e.g.  make run {choices}\n"
            "(every port has its variable: API_PORT, SITE_PORT, MOTO_PORT, REDIS_PORT, MONGO_PORT)",
            file=sys.stderr,
        )
        raise SystemExit(2)
    stopping = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopping.set())
    print("starting redis-server, SecantusDB, moto and the API ...", flush=True)
    stack.start()
    print(
        f"Emotionfy is running.\n"
        f"  web app      {stack.site.url if stack.site else 'not built (make frontend)'}\n"
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
