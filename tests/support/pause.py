"""A stand-in for Aurora Serverless v2's pause and resume, in front of a real MySQL server: a TCP
proxy on 127.0.0.1 that passes connections on, and, once told the database is paused, accepts
the next connections and holds them until the "resume" is done, `seconds` after the first of
them arrived (Aurora User Guide, "Scaling to Zero ACUs with automatic pause and resume": the
connection is accepted and delayed while the instance resumes, about 15 s).
"""

import contextlib
import socket
import threading
import time


class PausingProxy:
    def __init__(self, target_port: int, target_host: str = "127.0.0.1"):
        self.target = (target_host, target_port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.resumed_at: float | None = None  # time.monotonic() when the last resume ended
        self._resume_seconds: float | None = None
        self._resume_ends: float | None = None
        self._lock = threading.Lock()
        self._open: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def pause(self, resume_seconds: float) -> None:
        """From now on the database is paused: the next connection starts a resume that takes
        `resume_seconds`, and every connection waits for its end."""
        with self._lock:
            self._resume_seconds, self._resume_ends = resume_seconds, None

    def close(self) -> None:
        self.listener.close()
        for sock in list(self._open):
            with contextlib.suppress(OSError):
                sock.close()

    def _accept(self) -> None:
        with contextlib.suppress(OSError):
            while True:
                client, _ = self.listener.accept()
                threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _wait_for_resume(self) -> None:
        with self._lock:
            if self._resume_seconds is not None and self._resume_ends is None:
                self._resume_ends = time.monotonic() + self._resume_seconds  # woken now
            ends = self._resume_ends
        if ends is None:
            return
        time.sleep(max(0.0, ends - time.monotonic()))
        with self._lock:
            if self._resume_ends == ends:  # resumed: no longer paused
                self._resume_seconds = self._resume_ends = None
                self.resumed_at = ends

    def _serve(self, client: socket.socket) -> None:
        self._open.append(client)
        self._wait_for_resume()  # held, accepted, silent: the client waits for its greeting
        try:
            server = socket.create_connection(self.target, timeout=5)
        except OSError:
            client.close()
            return
        server.settimeout(None)
        self._open.append(server)
        for source, sink in ((client, server), (server, client)):
            threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        for sock in (source, sink):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
