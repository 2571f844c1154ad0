"""The gRPC channel to a toolkit server: address, API key, stubs and call deadlines."""

from __future__ import annotations

import os
import uuid
from typing import Optional, Sequence, Tuple
from urllib.parse import urlsplit

import grpc

from ._proto import code_grpc, command_grpc, file_grpc, job_grpc, network_grpc, sandbox_grpc

DEFAULT_URL = "http://127.0.0.1:50051"

# Deadlines, in seconds. Every call has one, so that a server that accepted the connection
# but stopped answering cannot hang an agent forever; calls that run user code get the
# user's timeout plus this margin, so the server's own timeout error (with its reason)
# arrives first.
CALL_DEADLINE = 30.0
CREATE_DEADLINE = 120.0
RUN_MARGIN = 30.0
SERVER_DEFAULT_RUN_TIMEOUT = 60.0
# Bulk transfers: long enough for large files on a slow link, finite all the same.
TRANSFER_DEADLINE = 3600.0

# Results carry PNGs and DataFrames; gRPC's default 4 MiB receive limit is too small.
MAX_MESSAGE_BYTES = 256 * 1024 * 1024

Metadata = Tuple[Tuple[str, str], ...]


def random_client_id(prefix: str = "py") -> str:
    return f"{prefix}-{uuid.uuid4()}"


def resolve_url(base_url: Optional[str]) -> str:
    """The server URL: the argument, else env E2B_TOOLKIT_URL, else http://127.0.0.1:50051."""
    return (base_url or os.environ.get("E2B_TOOLKIT_URL") or DEFAULT_URL).rstrip("/")


def resolve_api_key(api_key: Optional[str]) -> Optional[str]:
    """The API key: the argument, else env E2B_TOOLKIT_API_KEY, else none (no header)."""
    return api_key or os.environ.get("E2B_TOOLKIT_API_KEY") or None


def _channel_for(url: str) -> grpc.Channel:
    """http:// is gRPC over cleartext HTTP/2 (h2c), https:// over TLS; a bare host:port is h2c."""
    if "://" not in url:
        target, secure = url, False
    else:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"invalid toolkit server URL {url!r}: expected http://host:port or https://host")
        secure = parts.scheme == "https"
        host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
        target = f"{host}:{parts.port or (443 if secure else 80)}"
    options: Sequence[Tuple[str, int]] = [
        ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
        ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
    ]
    if secure:
        return grpc.secure_channel(target, grpc.ssl_channel_credentials(), options=options)
    return grpc.insecure_channel(target, options=options)


class Connection:
    """One channel and the stubs of the six toolkit services on it.

    Calls go out with ``wait_for_ready=False`` (gRPC's default, spelled out): a server that
    is down fails the call at once with UNAVAILABLE instead of waiting for it to come up.
    """

    def __init__(self, base_url: Optional[str] = None, api_key: Optional[str] = None):
        self.url = resolve_url(base_url)
        self.api_key = resolve_api_key(api_key)
        self.metadata: Metadata = (("authorization", f"Bearer {self.api_key}"),) if self.api_key else ()
        self.channel = _channel_for(self.url)
        self.sandboxes = sandbox_grpc.SandboxServiceStub(self.channel)
        self.commands = command_grpc.CommandServiceStub(self.channel)
        self.jobs = job_grpc.JobServiceStub(self.channel)
        self.code = code_grpc.CodeServiceStub(self.channel)
        self.files = file_grpc.FileServiceStub(self.channel)
        self.network = network_grpc.NetworkServiceStub(self.channel)

    def call(self, method, request, deadline: Optional[float] = CALL_DEADLINE):
        """Calls a unary or server-streaming stub method with the key and a deadline."""
        return method(request, timeout=deadline, metadata=self.metadata, wait_for_ready=False)

    def close(self) -> None:
        self.channel.close()
