"""Runs moto in server mode on a free 127.0.0.1 port for as long as its parent lives.

Prints `PORT <n>` once the server answers, then blocks reading stdin: when the parent process
exits (cleanly or not) the pipe closes, stdin reaches EOF, and the server stops. So an emulator
never outlives the test run or demo that started it.
"""

import socket
import sys

from moto.server import ThreadedMotoServer


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def main() -> None:
    port = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1] != "0" else free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    print(f"PORT {port}", flush=True)
    try:
        sys.stdin.read()
    finally:
        server.stop()


if __name__ == "__main__":
    main()
