"""Runs moto in server mode on a free 127.0.0.1 port for as long as its parent lives.

Prints `PORT <n>` once the server answers, then blocks reading stdin: when the parent process
exits (cleanly or not) the pipe closes, stdin reaches EOF, and the server stops. So an emulator
never outlives the test run or demo that started it.

DynamoDB applies a conditional write atomically: the condition and the write are one step. moto
checks the condition and then writes, so two requests on two server threads can both pass a
condition that only one of them may (two takes from a budget with one unit left). Requests are
therefore handled one at a time, as moto's own in-process mode does: moto is bound by Python's
GIL anyway, so this costs nearly nothing and makes every conditional write atomic, as on AWS.
"""

import socket
import sys
import threading

from moto.moto_server.threaded_moto_server import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
    make_server,
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class OneAtATime:
    """A WSGI middleware that handles one request at a time (the response is built inside)."""

    def __init__(self, app):
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        with self.lock:
            return list(self.app(environ, start_response))


def main() -> None:
    port = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1] != "0" else free_port()
    app = OneAtATime(DomainDispatcherApplication(create_backend_app))
    server = make_server("127.0.0.1", port, app, True, request_handler=MotoRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    print(f"PORT {port}", flush=True)
    try:
        sys.stdin.read()
    finally:
        server.shutdown()


if __name__ == "__main__":
    main()
