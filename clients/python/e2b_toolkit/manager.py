"""SandboxManager: sandbox lifecycle, as the reference's SandboxManager."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any, Dict, Optional

import grpc

from ._proto import sandbox_pb
from .connection import CALL_DEADLINE, CREATE_DEADLINE, Connection, random_client_id
from .errors import from_rpc_error, to_toolkit_error
from .results import duration


class SandboxSlot:
    """A sandbox the manager created or connected to: its id and what the server said about it."""

    def __init__(self, sandbox: Any, manager: "SandboxManager"):
        #: The Sandbox message as the server returned it.
        self.sandbox = sandbox
        self.manager = manager
        self.sandbox_id: str = sandbox.sandbox_id
        self.template: str = sandbox.template
        self.metadata: Dict[str, str] = dict(sandbox.metadata)
        self.created_at: Optional[datetime] = _datetime(sandbox, "create_time")
        self.expires_at: Optional[datetime] = _datetime(sandbox, "expire_time")
        self.is_default: bool = sandbox.is_default

    def shutdown(self) -> Dict[str, Any]:
        """Shuts this sandbox down (as ``SandboxManager.shutdown``)."""
        return self.manager.shutdown(self.sandbox_id)

    def __repr__(self) -> str:
        return f"SandboxSlot(sandbox_id={self.sandbox_id!r}, expires_at={self.expires_at!r})"


class SandboxManager:
    """Manages sandbox lifecycle on a toolkit server.

    ``api_key``, ``default_timeout`` (seconds) and ``default_options`` are the reference's.
    ``default_options`` may hold ``template``, ``envs`` (for every command and Python run) and
    ``metadata`` (merged under the metadata given to ``create``). The rest are this client's:
    ``base_url`` (default env ``E2B_TOOLKIT_URL``, else ``http://127.0.0.1:50051``) and
    ``client_id`` (the client_id of the manager's own calls; default random). The API key
    falls back to env ``E2B_TOOLKIT_API_KEY``; with none, no Authorization header is sent
    (fine for a loopback server without keys).
    """

    def __init__(
        self,
        api_key: Optional[str] = None,
        default_timeout: int = 300,
        default_options: Optional[Dict] = None,
        *,
        base_url: Optional[str] = None,
        client_id: Optional[str] = None,
    ):
        self.connection = Connection(base_url, api_key)
        self.api_key = self.connection.api_key
        self.base_url = self.connection.url
        self.default_timeout = default_timeout
        self.default_options: Dict[str, Any] = dict(default_options or {})
        self.client_id = client_id or random_client_id("manager")

    def create(
        self,
        timeout: Optional[int] = None,
        metadata: Optional[Dict[str, Any]] = None,
        *,
        client_id: Optional[str] = None,
        set_as_default: bool = False,
    ) -> SandboxSlot:
        """Creates a sandbox (timeout in seconds, default ``default_timeout``).

        Raises ``ToolkitError`` on failure.
        """
        try:
            request = sandbox_pb.CreateSandboxRequest(
                client_id=client_id if client_id is not None else self.client_id,
                timeout=duration(timeout if timeout is not None else self.default_timeout),
                metadata={**_strings(self.default_options.get("metadata")), **_strings(metadata)},
                set_as_default=set_as_default,
                envs=_strings(self.default_options.get("envs")),
                template=self.default_options.get("template") or "",
            )
            res = self.connection.call(self.connection.sandboxes.CreateSandbox, request, CREATE_DEADLINE)
        except (grpc.RpcError, ValueError, TypeError) as err:
            raise to_toolkit_error(err, self.base_url) from None
        return SandboxSlot(res.sandbox, self)

    def connect(
        self,
        sandbox_id: str,
        *,
        client_id: Optional[str] = None,
        set_as_default: bool = False,
        timeout: Optional[int] = None,
    ) -> SandboxSlot:
        """Connects to an existing sandbox of the API key. Raises ``ToolkitError`` on failure."""
        try:
            request = sandbox_pb.ConnectSandboxRequest(
                sandbox_id=sandbox_id,
                client_id=client_id if client_id is not None else self.client_id,
                set_as_default=set_as_default,
                timeout=duration(timeout),
            )
            res = self.connection.call(self.connection.sandboxes.ConnectSandbox, request, CALL_DEADLINE)
        except (grpc.RpcError, ValueError, TypeError) as err:
            raise to_toolkit_error(err, self.base_url) from None
        return SandboxSlot(res.sandbox, self)

    def shutdown(self, sandbox_id: str) -> Dict[str, Any]:
        """Shuts a sandbox down: ``{"status": "success", "sandbox_id", "result": True}``.

        Never raises: a failure is ``{"status": "error", "sandbox_id", "result": None,
        "error", "code", ...}``.
        """
        try:
            request = sandbox_pb.ShutdownSandboxRequest(sandbox_id=sandbox_id, client_id=self.client_id)
            res = self.connection.call(self.connection.sandboxes.ShutdownSandbox, request, CREATE_DEADLINE)
            return {"status": "success", "sandbox_id": res.sandbox_id or sandbox_id, "result": True}
        except grpc.RpcError as err:
            e = from_rpc_error(err, self.base_url)
            return {**e.as_result(), "sandbox_id": sandbox_id, "result": None}

    def close(self) -> None:
        """Closes the connection to the server. Sandboxes keep running."""
        self.connection.close()

    def __enter__(self) -> "SandboxManager":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _datetime(msg: Any, field: str) -> Optional[datetime]:
    return getattr(msg, field).ToDatetime(tzinfo=timezone.utc) if msg.HasField(field) else None


def _strings(values: Optional[Dict[str, Any]]) -> Dict[str, str]:
    """Metadata and env values as strings (the API's maps are map<string, string>)."""
    return {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in (values or {}).items()}
