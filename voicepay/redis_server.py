"""A private, throw-away ``redis-server`` for the tests and the offline demo.

The server listens only on a unix socket in a fresh temporary directory (no TCP port, no
persistence), so several can run side by side and nothing outlives :meth:`LocalRedisServer.stop`.
"""

from __future__ import annotations

import atexit
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Self

_SEARCH_DIRS = ("/usr/bin", "/usr/sbin", "/usr/local/bin")
# AF_UNIX paths are limited to ~104-108 bytes; long temp dirs (macOS) fall back to /tmp.
_MAX_TEMP_DIR_LEN = 60


class RedisServerError(RuntimeError):
    """The local redis-server could not be started or did not answer."""


class RedisServerNotFoundError(RedisServerError):
    """No ``redis-server`` binary is installed."""


def find_redis_server() -> str:
    """Path of the ``redis-server`` binary, from ``PATH`` or the usual system directories.

    Raises:
        RedisServerNotFoundError: the binary is not installed.
    """
    found = shutil.which("redis-server")
    if found:
        return found
    for directory in _SEARCH_DIRS:
        candidate = Path(directory) / "redis-server"
        if os.access(candidate, os.X_OK):
            return str(candidate)
    raise RedisServerNotFoundError(
        "redis-server was not found on PATH or in /usr/bin, /usr/sbin. Install it "
        "(`apt-get install redis-server`, `brew install redis`) or point VoicePay at an existing "
        "Redis with VOICEPAY_REDIS_URL=redis://host:6379/0."
    )


def _temp_base() -> str:
    base = tempfile.gettempdir()
    if len(base) > _MAX_TEMP_DIR_LEN and os.path.isdir("/tmp"):
        return "/tmp"
    return base


def answers_ping(socket_path: Path) -> bool:
    """Whether a Redis server answers PING on the unix socket at ``socket_path``."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(0.5)
            sock.connect(str(socket_path))
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


class LocalRedisServer:
    """A ``redis-server`` child process on a unix socket in its own temporary directory.

    Use it as a context manager, or call :meth:`start` and :meth:`stop`.

    Args:
        executable: the redis-server binary; found with :func:`find_redis_server` when omitted.
        startup_timeout_s: how long to wait for the server to answer ``PING``.
    """

    def __init__(self, *, executable: str | None = None, startup_timeout_s: float = 10.0) -> None:
        self._executable = executable
        self._startup_timeout_s = startup_timeout_s
        self._dir: Path | None = None
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def socket_path(self) -> Path:
        """The unix socket the server listens on; stable across :meth:`restart`."""
        if self._dir is None:
            raise RedisServerError("the local redis-server is not started")
        return self._dir / "redis.sock"

    @property
    def url(self) -> str:
        """Connection URL, e.g. ``unix:///tmp/voicepay-redis-x/redis.sock``."""
        return f"unix://{self.socket_path}"

    @property
    def running(self) -> bool:
        """Whether the server process is alive."""
        return self._process is not None and self._process.poll() is None

    def start(self) -> Self:
        """Start the server in a fresh temporary directory and wait until it answers.

        Raises:
            RedisServerNotFoundError: redis-server is not installed.
            RedisServerError: it exited or did not answer in time.
        """
        if self._dir is not None:
            raise RedisServerError("the local redis-server is already started")
        executable = self._executable or find_redis_server()
        self._executable = executable
        self._dir = Path(tempfile.mkdtemp(prefix="voicepay-redis-", dir=_temp_base()))
        atexit.register(self.stop)
        try:
            self._spawn()
        except BaseException:
            self.stop()
            raise
        return self

    def restart(self) -> None:
        """Stop the process and start a new one on the same socket; stored data is lost."""
        if self._dir is None:
            raise RedisServerError("the local redis-server is not started")
        self._terminate()
        self._spawn()

    def stop(self) -> None:
        """Terminate the server and remove its directory; safe to call more than once."""
        self._terminate()
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None
        atexit.unregister(self.stop)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _spawn(self) -> None:
        assert self._dir is not None and self._executable is not None
        log_path = self._dir / "redis.log"
        args = [
            self._executable,
            "--port", "0",
            "--unixsocket", str(self.socket_path),
            "--unixsocketperm", "700",
            "--save", "",
            "--appendonly", "no",
            "--dir", str(self._dir),
            "--logfile", str(log_path),
            "--daemonize", "no",
        ]  # fmt: skip
        with open(self._dir / "stderr.log", "ab") as stderr:
            self._process = subprocess.Popen(
                args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr
            )
        deadline = time.monotonic() + self._startup_timeout_s
        while not answers_ping(self.socket_path):
            if self._process.poll() is not None or time.monotonic() > deadline:
                detail = self._log_tail()
                self._terminate()
                raise RedisServerError(f"the local redis-server did not start: {detail}")
            time.sleep(0.01)

    def _terminate(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def _log_tail(self) -> str:
        assert self._dir is not None
        lines: list[str] = []
        for name in ("stderr.log", "redis.log"):
            path = self._dir / name
            if path.exists():
                lines += path.read_text(errors="replace").splitlines()[-5:]
        return " | ".join(line.strip() for line in lines if line.strip()) or "no output"
