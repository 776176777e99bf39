"""A TCP forwarder between the code under test and a shared server (PostgreSQL, Redis), so a test can make
the server unreachable for that code alone without touching the server others use.

``cut()`` closes every connection and refuses new ones (connection refused), ``pause()`` stops moving bytes
and accepting (a server that hangs), ``restore()`` forwards again on the same port.
"""

import contextlib
import socket
import threading

BUFFER = 65536


class TcpProxy:
    def __init__(self, target_host: str, target_port: int):
        self.target = (target_host, target_port)
        self.host = "127.0.0.1"
        self._flowing = threading.Event()
        self._flowing.set()
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._listener: socket.socket | None = None
        self._closed = False
        self.port = self._listen(0)

    def _listen(self, port: int) -> int:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((self.host, port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()
        return listener.getsockname()[1]

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _address = listener.accept()
            except OSError:  # the listener was closed: cut() or close()
                return
            self._flowing.wait()
            if listener is not self._listener:
                client.close()
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets.update((client, upstream))
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while chunk := source.recv(BUFFER):
                self._flowing.wait()
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            self._drop(source, sink)

    def _drop(self, *sockets: socket.socket) -> None:
        with self._lock:
            for sock in sockets:
                self._sockets.discard(sock)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    @property
    def url_host(self) -> str:
        return f"{self.host}:{self.port}"

    def pause(self) -> None:
        """Bytes stop moving both ways and new connections wait: the server seems to hang."""
        self._flowing.clear()

    def cut(self) -> None:
        """Every connection is closed and new ones are refused: the server seems down."""
        with self._lock:
            listener, self._listener = self._listener, None
            sockets = list(self._sockets)
        if listener is not None:
            listener.close()
        self._drop(*sockets)
        self._flowing.set()  # wake the paused threads so they see their sockets closed

    def restore(self) -> None:
        """Forwards again, on the same port."""
        self._flowing.set()
        if self._listener is None and not self._closed:
            self._listen(self.port)

    def close(self) -> None:
        self._closed = True
        self.cut()
