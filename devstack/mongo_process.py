"""`python -m devstack.mongo_process --port P --data-dir D`: SecantusDB in a process of its own, until
SIGTERM or SIGINT (the local stack's MongoDB; a process so that it can be paused and killed like one)."""

from __future__ import annotations

import argparse
import signal
import threading


def main() -> None:
    parser = argparse.ArgumentParser(prog="devstack.mongo_process", description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--data-dir", required=True)
    args = parser.parse_args()
    stopping = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopping.set())

    from secantus import SecantusDBServer

    server = SecantusDBServer(host="127.0.0.1", port=args.port, storage_path=args.data_dir)
    server.start()
    stopping.wait()
    server.stop()


if __name__ == "__main__":
    main()
