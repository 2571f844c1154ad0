"""How failures become the reference's ``{"status": "error", ...}`` results.

One table of cases: an RPC error (its gRPC status code in snake_case, and the machine-readable
reason from the server's google.rpc.ErrorInfo), a local file-system error (its errno name),
and an invalid argument of the caller. Methods that return a result dict never raise for
these; ``SandboxManager.create``/``connect`` and the generators raise ``ToolkitError``.
"""

from __future__ import annotations

import errno as errno_names
from typing import Any, Dict, Optional

import grpc

from ._proto import error_details_pb, rpc_status_pb

# The ErrorInfo domain of the toolkit's errors.
ERROR_DOMAIN = "e2b-toolkit"
_ERROR_INFO_TYPE = "type.googleapis.com/google.rpc.ErrorInfo"
_STATUS_DETAILS_KEY = "grpc-status-details-bin"


class ToolkitError(Exception):
    """A failed toolkit call: ``code`` ("not_found", "unavailable"...), ``reason``
    ("JOB_NOT_FOUND"... or None) and the server's ``message``."""

    def __init__(self, code: str, message: str, reason: Optional[str] = None, metadata: Optional[Dict[str, str]] = None):
        self.code = code
        self.message = message
        self.reason = reason
        self.metadata = dict(metadata or {})
        super().__init__(f"{code}{f' ({reason})' if reason else ''}: {message}")

    def as_result(self, **extra: Any) -> Dict[str, Any]:
        """The error as the reference's result dict, with context keys (sandbox_id, job_id...)."""
        out: Dict[str, Any] = {"status": "error", "error": self.message, "message": self.message, "code": self.code}
        if self.reason:
            out["reason"] = self.reason
        out.update({k: v for k, v in extra.items() if v is not None})
        return out


def _error_info(err: grpc.Call) -> Optional[error_details_pb.ErrorInfo]:
    """The ErrorInfo of the toolkit's domain in the status details trailer, if any."""
    try:
        trailers = err.trailing_metadata() or ()
    except Exception:  # an error raised before the call existed has no trailers
        return None
    for key, value in trailers:
        if key != _STATUS_DETAILS_KEY or not isinstance(value, bytes):
            continue
        try:
            status = rpc_status_pb.RpcStatus.FromString(value)
            for detail in status.details:
                if detail.type_url == _ERROR_INFO_TYPE:
                    info = error_details_pb.ErrorInfo.FromString(detail.value)
                    if info.domain == ERROR_DOMAIN:
                        return info
        except Exception:  # undecodable details: no reason, the code and message still stand
            return None
    return None


def from_rpc_error(err: grpc.RpcError, server_url: str = "") -> ToolkitError:
    """An RpcError as a ToolkitError; an unreachable server says which server."""
    code = err.code() if isinstance(err, grpc.Call) else grpc.StatusCode.UNKNOWN
    message = (err.details() if isinstance(err, grpc.Call) else None) or str(err)
    info = _error_info(err) if isinstance(err, grpc.Call) else None
    reason = info.reason if info and info.reason and info.reason != "UNSPECIFIED" else None
    if code == grpc.StatusCode.UNAVAILABLE and not reason and server_url:
        message = f"cannot reach the toolkit server at {server_url}: {message}"
    return ToolkitError(code.name.lower() if code else "unknown", message, reason, dict(info.metadata) if info else None)


def to_toolkit_error(err: BaseException, server_url: str = "") -> ToolkitError:
    """Any failure of a call as a ToolkitError (RPC, file system, bad argument)."""
    if isinstance(err, ToolkitError):
        return err
    if isinstance(err, grpc.RpcError):
        return from_rpc_error(err, server_url)
    if isinstance(err, OSError) and err.errno is not None:
        name = errno_names.errorcode.get(err.errno, "oserror").lower()
        where = f": {err.filename}" if err.filename else ""
        return ToolkitError(name, f"{err.strerror or err}{where}")
    if isinstance(err, (ValueError, TypeError)):
        return ToolkitError("invalid_argument", str(err))
    return ToolkitError("unknown", f"{type(err).__name__}: {err}")
