"""A real ``redis-server`` the fault tests can stop and start again, with or without its data.

With ``persistent=True`` it writes an append-only file synced on every write, as a production
Redis holding call state should, so a restart keeps every acknowledged write; without it a
restart comes back empty, as a Redis without persistence (or a failover to an empty replica) does.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Self

from voicepay.redis_server import answers_ping, find_redis_server


class RestartableRedis:
    """A ``redis-server`` on a unix socket in a private directory; :meth:`stop`, :meth:`start`.

    Args:
        persistent: keep data across restarts (AOF, ``appendfsync always``).
    """

    def __init__(self, *, persistent: bool) -> None:
        self.persistent = persistent
        self._dir = Path(tempfile.mkdtemp(prefix="vp-fault-redis-", dir="/tmp"))
        self._process: subprocess.Popen[bytes] | None = None
        self.restarts = 0

    @property
    def url(self) -> str:
        """The server's ``unix://`` URL; the same across restarts."""
        return f"unix://{self._dir / 'redis.sock'}"

    def start(self) -> None:
        """Start the server and wait until it answers ``PING``."""
        args = [
            find_redis_server(),
            "--port", "0",
            "--unixsocket", str(self._dir / "redis.sock"),
            "--unixsocketperm", "700",
            "--save", "",
            "--appendonly", "yes" if self.persistent else "no",
            "--appendfsync", "always",
            "--dir", str(self._dir),
            "--logfile", str(self._dir / "redis.log"),
        ]  # fmt: skip
        self._process = subprocess.Popen(
            args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 10
        while not answers_ping(self._dir / "redis.sock"):
            if self._process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the fault-test redis-server did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        """Kill the server abruptly (SIGKILL): no shutdown save, connections dropped."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.kill()
            process.wait()
        (self._dir / "redis.sock").unlink(missing_ok=True)

    def restart(self) -> None:
        """Stop and start again; the data survives only when persistent."""
        self.stop()
        self.start()
        self.restarts += 1

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
        shutil.rmtree(self._dir, ignore_errors=True)
