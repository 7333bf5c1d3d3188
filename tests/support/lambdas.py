"""Test doubles for running the monolith the way Lambda runs it.

- `http_event()` and `LambdaContext` come from app.deploy.events (the one event builder
  and context double of the project), re-exported here for the tests.
- `invoke()` runs one invocation through serverless-wsgi, as `wsgi_handler.handler` does.
- `TcpForwarder` sits between the app and a TCP server (MariaDB) and can be switched,
  while connections are open, between forwarding, never answering, and refusing.

Nothing here imports the app: these helpers serve the monolith and the dedicated
functions alike (parity tests send the same event to both).
"""

from __future__ import annotations

import base64
import contextlib
import enum
import json
import socket
import threading
from collections.abc import Mapping
from typing import Any

import serverless_wsgi

from app.deploy.events import API_HOST, LambdaContext, http_event

__all__ = [
    "API_HOST",
    "ForwarderMode",
    "LambdaContext",
    "TcpForwarder",
    "http_event",
    "invoke",
    "response_json",
]


def invoke(app: Any, event: Mapping[str, Any], context: Any = None) -> dict[str, Any]:
    """One invocation of a WSGI app through serverless-wsgi (a fresh context by default)."""
    result: dict[str, Any] = serverless_wsgi.handle_request(
        app, dict(event), context if context is not None else LambdaContext()
    )
    return result


def response_json(response: Mapping[str, Any]) -> Any:
    """The decoded JSON body of a serverless-wsgi response."""
    body = response.get("body", "")
    if response.get("isBase64Encoded"):
        body = base64.b64decode(body).decode("utf-8")
    return json.loads(body)


class ForwarderMode(enum.Enum):
    UP = "up"  # accept and forward to the upstream
    BLACKHOLE = "blackhole"  # accept, then never send a byte (a hung server or proxy)
    REFUSE = "refuse"  # nothing listens: connections are refused


class _Pipe:
    """One forwarded connection: a thread per direction; sockets closed when both end."""

    def __init__(self, client: socket.socket, upstream: socket.socket) -> None:
        self._sockets = (client, upstream)
        self._silenced = threading.Event()
        self._lock = threading.Lock()
        self._running = 2
        self._threads = [
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True),
            threading.Thread(target=self._pump, args=(upstream, client), daemon=True),
        ]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    @property
    def alive(self) -> bool:
        return any(thread.is_alive() for thread in self._threads)

    def _pump(self, source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                if not self._silenced.is_set():
                    target.sendall(data)
        except OSError:
            pass
        finally:
            self.shutdown()
            with self._lock:
                self._running -= 1
                last = self._running == 0
            if last:
                for sock in self._sockets:
                    sock.close()

    def silence(self) -> None:
        """Forward nothing more either way, and keep both sockets open: a peer that went
        silent without closing (a dead host, a dropped route, a hung proxy)."""
        self._silenced.set()

    def shutdown(self) -> None:
        """End both directions; the pump threads then finish and close the sockets."""
        for sock in self._sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def join(self, timeout: float) -> None:
        for thread in self._threads:
            thread.join(timeout)


class TcpForwarder:
    """A TCP forwarder on `host:<free port>` to `upstream`, switchable at any time.

    The listening socket belongs to the accept thread; `set_mode()` asks for a change and
    returns once it is in effect. Use as a context manager so every socket is closed.
    """

    def __init__(
        self,
        upstream: tuple[str, int],
        *,
        host: str = "127.0.0.1",
        poll_interval: float = 0.02,
    ) -> None:
        self.upstream = upstream
        self.host = host
        self._poll = poll_interval
        self._cond = threading.Condition()
        self._mode = ForwarderMode.UP
        self._requested = 0
        self._applied = 0
        self._error: OSError | None = None
        self._listener: socket.socket | None = None
        self._port = 0
        self._pipes: list[_Pipe] = []
        self._held: list[socket.socket] = []
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.accepted = 0
        self.blackholed = 0

    @property
    def port(self) -> int:
        return self._port

    @property
    def mode(self) -> ForwarderMode:
        return self._mode

    def start(self) -> TcpForwarder:
        self._listener = self._listen(0)
        self._port = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, name="tcp-forwarder", daemon=True)
        self._thread.start()
        return self

    def __enter__(self) -> TcpForwarder:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def set_mode(self, mode: ForwarderMode, timeout: float = 5.0) -> None:
        """Switch mode; new connections see it once this returns. Leaving BLACKHOLE closes
        the connections it was holding; forwarded connections stay (see drop_connections)."""
        with self._cond:
            self._mode = mode
            self._requested += 1
            target = self._requested
            if not self._cond.wait_for(lambda: self._applied >= target, timeout):
                raise TimeoutError(f"forwarder did not switch to {mode.value}")
            if self._error is not None:
                error, self._error = self._error, None
                raise RuntimeError(f"forwarder could not switch to {mode.value}") from error

    def silence_connections(self) -> None:
        """Every connection forwarded so far stops carrying bytes and stays open; new
        connections follow the mode as usual."""
        with self._cond:
            pipes = list(self._pipes)
        for pipe in pipes:
            pipe.silence()

    def drop_connections(self) -> None:
        """Close every open connection (forwarded or held), as a failing server would."""
        with self._cond:
            pipes, self._pipes = self._pipes, []
            held, self._held = self._held, []
        for pipe in pipes:
            pipe.shutdown()
        for pipe in pipes:
            pipe.join(5.0)
        for sock in held:
            _close(sock)

    def close(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(5.0)
            self._thread = None
        if self._listener is not None:  # never started its thread
            self._listener.close()
            self._listener = None
        self.drop_connections()

    def _listen(self, port: int) -> socket.socket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host, port))
            sock.listen(16)
            sock.settimeout(self._poll)
        except OSError:
            sock.close()
            raise
        return sock

    def _apply_mode(self) -> None:
        with self._cond:
            if self._applied == self._requested:
                return
            mode = self._mode
            if mode is ForwarderMode.REFUSE and self._listener is not None:
                self._listener.close()
                self._listener = None
            elif mode is not ForwarderMode.REFUSE and self._listener is None:
                try:
                    self._listener = self._listen(self._port)
                except OSError as error:
                    self._error = error
            held = [] if mode is ForwarderMode.BLACKHOLE else self._held
            if held:
                self._held = []
            self._applied = self._requested
            self._cond.notify_all()
        for sock in held:
            _close(sock)

    def _serve(self) -> None:
        try:
            while not self._stopping.is_set():
                self._apply_mode()
                listener = self._listener
                if listener is None:
                    self._stopping.wait(self._poll)
                    continue
                try:
                    client, _address = listener.accept()
                except OSError:  # includes the poll timeout
                    continue
                self._handle(client)
        finally:
            with self._cond:
                if self._listener is not None:
                    self._listener.close()
                    self._listener = None

    def _handle(self, client: socket.socket) -> None:
        client.settimeout(None)
        with self._cond:
            self.accepted += 1
            mode = self._mode
            self._pipes = [pipe for pipe in self._pipes if pipe.alive]
            if mode is ForwarderMode.BLACKHOLE:
                self.blackholed += 1
                self._held.append(client)
                return
        try:
            upstream = socket.create_connection(self.upstream, timeout=5.0)
        except OSError:
            _close(client)
            return
        upstream.settimeout(None)
        pipe = _Pipe(client, upstream)
        with self._cond:
            self._pipes.append(pipe)
        pipe.start()


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()
