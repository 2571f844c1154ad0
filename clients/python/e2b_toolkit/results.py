"""Protobuf messages as the reference's plain dicts (snake_case keys, as the TS client)."""

from __future__ import annotations

import base64
from datetime import timezone
from typing import Any, Dict, Optional

from google.protobuf import duration_pb2
from google.protobuf.json_format import MessageToDict

from ._proto import execution_pb, job_pb, sandbox_pb

_JOB_STATUS = {
    job_pb.JOB_STATUS_RUNNING: "running",
    job_pb.JOB_STATUS_DONE: "done",
    job_pb.JOB_STATUS_ERROR: "error",
    job_pb.JOB_STATUS_CANCELLED: "cancelled",
}
_JOB_KIND = {job_pb.JOB_KIND_COMMAND: "command", job_pb.JOB_KIND_PYTHON: "python"}
_SANDBOX_STATE = {sandbox_pb.SANDBOX_STATE_RUNNING: "running", sandbox_pb.SANDBOX_STATE_PAUSED: "paused"}
_EXECUTION_STATUS = {
    execution_pb.EXECUTION_STATUS_RUNNING: "running",
    execution_pb.EXECUTION_STATUS_SUCCEEDED: "success",
    execution_pb.EXECUTION_STATUS_FAILED: "error",
    execution_pb.EXECUTION_STATUS_CANCELLED: "cancelled",
}


def duration(seconds: Optional[float]) -> Optional[duration_pb2.Duration]:
    """Seconds as a google.protobuf.Duration; None stays None (the server's default)."""
    if seconds is None:
        return None
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds != seconds or seconds < 0:
        raise ValueError(f"invalid duration: {seconds!r} seconds")
    d = duration_pb2.Duration()
    d.FromNanoseconds(int(round(seconds * 1e9)))
    return d


def iso_time(msg: Any, field: str) -> Optional[str]:
    """A Timestamp field as "2026-01-02T03:04:05.678Z" (as JS's toISOString), None when unset."""
    if not msg.HasField(field):
        return None
    dt = getattr(msg, field).ToDatetime(tzinfo=timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def struct_dict(msg: Any) -> Any:
    return MessageToDict(msg, preserving_proto_field_name=True)


def job_info(job: Any) -> Dict[str, Any]:
    """A Job as ``{"status": "running" | "done" | "error" | "cancelled", "job_id", ...}``."""
    info: Dict[str, Any] = {
        "status": _JOB_STATUS.get(job.status, "unknown"),
        "job_id": job.job_id,
        "sandbox_id": job.sandbox_id,
        "kind": _JOB_KIND.get(job.kind, "unknown"),
        "stdout_bytes": job.stdout_bytes,
        "stderr_bytes": job.stderr_bytes,
    }
    if job.command:
        info["command"] = job.command
    if job.code:
        info["code"] = job.code
    if job.execution_id:
        info["execution_id"] = job.execution_id
    if job.HasField("exit_code"):
        info["exit_code"] = job.exit_code
    if job.error:
        info["error"] = job.error
    for field in ("create_time", "start_time", "end_time"):
        t = iso_time(job, field)
        if t:
            info[field] = t
    return info


def sandbox_info(s: Any) -> Dict[str, Any]:
    return {
        "sandbox_id": s.sandbox_id,
        "state": _SANDBOX_STATE.get(s.state, "unknown"),
        "template": s.template,
        "metadata": dict(s.metadata),
        "is_default": s.is_default,
        "create_time": iso_time(s, "create_time"),
        "expire_time": iso_time(s, "expire_time"),
    }


def result_dict(r: Any) -> Dict[str, Any]:
    """A rich result as the reference's dict: its formats by name, binary ones base64."""
    out: Dict[str, Any] = {}
    if r.is_main_result:
        out["is_main_result"] = True
    for k in ("text", "html", "markdown", "latex", "svg", "javascript"):
        if r.HasField(k):
            out[k] = getattr(r, k)
    for k in ("png", "jpeg", "pdf"):
        if r.HasField(k):
            out[k] = base64.b64encode(getattr(r, k)).decode("ascii")
    for k in ("json", "data", "chart", "extra"):
        if r.HasField(k):
            out[k] = struct_dict(getattr(r, k))
    return out


def execution_result(e: Any) -> Dict[str, Any]:
    """An execution as the reference's result: ``{"status": "success", "results": [{"logs":
    stdout}?, ...rich results], "logs": {"stdout", "stderr"}, "execution_id", "sandbox_id"}``;
    when the code raised, ``{"status": "error", "error": "Name: value", "error_name",
    "error_value", "traceback", ...}``."""
    results = ([{"logs": e.stdout}] if e.stdout else []) + [result_dict(r) for r in e.results]
    base = {
        "execution_id": e.execution_id,
        "sandbox_id": e.sandbox_id,
        "results": results,
        "logs": {"stdout": e.stdout, "stderr": e.stderr},
    }
    if e.status == execution_pb.EXECUTION_STATUS_FAILED or e.HasField("error"):
        err = e.error if e.HasField("error") else None
        return {
            "status": "error",
            "error": f"{err.name}: {err.value}" if err else "the execution failed",
            "error_name": err.name if err else None,
            "error_value": err.value if err else None,
            "traceback": err.traceback if err else None,
            **base,
        }
    return {"status": _EXECUTION_STATUS.get(e.status, "success"), **base}
