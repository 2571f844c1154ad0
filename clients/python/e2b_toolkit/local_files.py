"""The local-disk side of downloads: all or nothing."""

from __future__ import annotations

import os
import secrets
from typing import BinaryIO, Callable, TypeVar

T = TypeVar("T")


def write_atomically(dest: str, write: Callable[[BinaryIO], T]) -> T:
    """Writes ``dest`` through a temporary sibling renamed into place once complete.

    The temporary file is created (exclusively) before ``write`` runs, so an unwritable
    destination fails before any byte is fetched; on any failure it is removed, so nothing
    half-written is ever left at ``dest`` or beside it.
    """
    parent = os.path.dirname(dest) or "."
    os.makedirs(parent, exist_ok=True)
    tmp = os.path.join(parent, f".{os.path.basename(dest)}.{secrets.token_hex(6)}.part")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        with os.fdopen(fd, "wb") as out:
            result = write(out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, dest)
        return result
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
