"""The data directory's lock: one log manager at a time over a directory.

As Kafka does with ``<log.dir>/.lock``, a ``LogManager`` takes an exclusive,
non-blocking ``flock`` on ``<data dir>/.lock`` before it reads anything and
holds it until shutdown. A second manager over the same directory, in another
process or in the same one, is refused with :class:`DataDirInUseError` instead
of sharing (and corrupting) the checkpoints, the clean-shutdown marker and the
producer-id block. The kernel drops the lock when the process dies, so a
``kill -9`` leaves nothing to clean up.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from tidal.log.storage._errors import StorageError

__all__ = ["LOCK_FILE", "DataDirInUseError", "DirectoryLock"]

LOCK_FILE = ".lock"


class DataDirInUseError(StorageError):
    """Another process (or another log manager of this one) holds the
    directory's lock."""

    def __init__(self, directory: Path) -> None:
        super().__init__(f"another process is using this directory: {directory}")
        self.directory = directory


class DirectoryLock:
    """An exclusive ``flock`` on ``<directory>/.lock``, taken at construction.

    ``flock`` locks belong to the open file, not to the process, so two locks
    in one process conflict too (``fcntl``/``lockf`` record locks would not).
    """

    def __init__(self, directory: Path) -> None:
        self.path = directory / LOCK_FILE
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise DataDirInUseError(directory.absolute()) from None
        except BaseException:
            os.close(fd)
            raise
        self._fd: int | None = fd

    @property
    def held(self) -> bool:
        """True until :meth:`release`."""
        return self._fd is not None

    def release(self) -> None:
        """Drop the lock (closing the file drops it); idempotent."""
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)
