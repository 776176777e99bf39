"""A real webhook receiver for the tests: an HTTP server on 127.0.0.1 in a thread that keeps every request
it gets and answers as the test says (accept, fail, redirect, stall)."""

import http.server
import threading
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    status: int  # what the receiver answered

    @property
    def webhook_id(self) -> str:
        return self.headers["webhook-id"]


class Receiver:
    """``status`` is what it answers (503 while "down"); ``delay`` seconds it waits first; ``trickle``
    seconds between the bytes of a long answer (``trickle_headers``: of its headers); ``hold`` an Event it
    waits on before answering."""

    def __init__(self):
        self.received: list[Received] = []
        self.status = 200
        self.delay = 0.0
        self.trickle = 0.0
        self.trickle_headers = 0.0
        self.location = ""
        self.hold: threading.Event | None = None
        self.got_request = threading.Event()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                headers = {k.lower(): v for k, v in self.headers.items()}
                receiver.received.append(Received(self.path, headers, body, receiver.status))
                receiver.got_request.set()
                if receiver.hold is not None:
                    receiver.hold.wait(60)
                time.sleep(receiver.delay)
                if receiver.trickle_headers:  # a header line a byte at a time, never ending
                    self.wfile.write(b"HTTP/1.1 200 OK\r\n")
                    for _ in range(400):
                        self.wfile.write(b"x")
                        self.wfile.flush()
                        time.sleep(receiver.trickle_headers)
                    return
                self.send_response(receiver.status)
                if receiver.location:
                    self.send_header("location", receiver.location)
                answer = b"x" * 2000 if receiver.trickle else f"answered {receiver.status}".encode()
                self.send_header("content-length", str(len(answer)))
                self.end_headers()
                if receiver.trickle:
                    for byte in answer:
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                        time.sleep(receiver.trickle)
                else:
                    self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks"

    def __enter__(self) -> "Receiver":
        self.thread.start()
        return self

    def __exit__(self, *exc):
        if self.hold is not None:
            self.hold.set()
        self.server.shutdown()
        self.server.server_close()

    def accepted(self) -> list[Received]:
        """The requests it answered with a 2xx."""
        return [request for request in self.received if 200 <= request.status < 300]
