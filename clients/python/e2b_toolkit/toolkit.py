"""E2BToolkit: the reference's high-level toolkit over the toolkit API, with its method
names, parameters and ``{"status": ...}`` result shapes (the same as the TS client's).

Errors. Methods that return a result dict never raise for a failed call, a missing local
file or an unwritable output path: the failure becomes ``{"status": "error", "error":
<message>, "message": <message>, "code": <gRPC code or errno name in snake_case>, "reason":
<ErrorReason name, when the server gave one>, ...context keys such as sandbox_id / job_id}``.
``get_job_status`` and ``kill_job`` report an unknown job as ``{"status": "not_found",
"job_id"}``. The generators (``tail_job_logs``, ``stream_python_code``) raise ``ToolkitError``.
"""

from __future__ import annotations

import codecs
import errno
import json
import os
import threading
from typing import Any, Callable, Dict, Iterator, Optional, TypeVar

import grpc

from ._proto import code_pb, command_pb, execution_pb, file_pb, job_pb, job_service_pb, network_pb, sandbox_pb
from .connection import (
    CREATE_DEADLINE,
    RUN_MARGIN,
    SERVER_DEFAULT_RUN_TIMEOUT,
    TRANSFER_DEADLINE,
    random_client_id,
)
from .errors import ToolkitError, from_rpc_error, to_toolkit_error
from .local_files import write_atomically
from .manager import SandboxManager
from .results import duration, execution_result, job_info, result_dict, sandbox_info, struct_dict

T = TypeVar("T")
Result = Dict[str, Any]

DEFAULT_UPLOAD_CHUNK = 256 * 1024


class E2BToolkit:
    """High-level toolkit for sandbox operations.

    ``auto_create_default`` creates the toolkit's default sandbox in the constructor, as the
    reference does; if that fails (server down, bad key), the constructor does not raise and
    the first method that needs the default sandbox tries again and reports the error as its
    result. ``global_workers`` bounds how many of this toolkit's calls run at once (calls
    from several threads are safe). Extra keyword arguments: ``client_id`` (this toolkit's
    client_id on the server, which owns its default sandbox and managed sandboxes; default a
    fresh random id, pass a fixed one for a restarted agent to find its default sandbox
    again), ``upload_chunk_size`` (bytes, default 256 KiB); any other is kept in
    ``self.options`` (the reference passed them to its agent framework's Toolkit base).
    """

    def __init__(self, sandbox_manager: SandboxManager, auto_create_default: bool = True, global_workers: int = 10, **kwargs: Any):
        self.manager = sandbox_manager
        self.client_id: str = kwargs.pop("client_id", None) or random_client_id("toolkit")
        self.upload_chunk_size: int = int(kwargs.pop("upload_chunk_size", DEFAULT_UPLOAD_CHUNK))
        self.options: Dict[str, Any] = kwargs
        self.auto_create_default = auto_create_default
        self.global_workers = max(1, int(global_workers))
        self._workers = threading.BoundedSemaphore(self.global_workers)
        self._default_lock = threading.Lock()
        self._default_id: Optional[str] = None
        if auto_create_default:
            try:
                self._target(None)
            except ToolkitError:
                pass  # retried, and reported, by the first call that needs the sandbox

    @property
    def sandbox_manager(self) -> SandboxManager:
        return self.manager

    @property
    def default_sandbox_id(self) -> Optional[str]:
        """The default sandbox's id, if one was created or set."""
        return self._default_id

    @property
    def _conn(self):
        return self.manager.connection

    # ---- code ----

    def run_python_code(self, code: str, sandbox_id: Optional[str] = None, timeout: Optional[int] = None) -> Result:
        """Runs Python code statefully and waits for it: ``{"status": "success", "results",
        "logs", "execution_id", "sandbox_id"}`` (``"error"`` with the exception when it raised)."""

        def run() -> Result:
            request = code_pb.RunPythonCodeRequest(
                sandbox_id=self._target(sandbox_id), client_id=self.client_id, code=code, timeout=duration(timeout)
            )
            res = self._conn.call(self._conn.code.RunPythonCode, request, _run_deadline(timeout))
            return execution_result(res.execution)

        return self._guarded(run, sandbox_id=sandbox_id)

    def stream_python_code(self, code: str, sandbox_id: Optional[str] = None, timeout: Optional[int] = None) -> Iterator[Result]:
        """Runs Python code and yields its events as they happen: ``{"type": "started",
        "execution_id", "sandbox_id"}``, then ``{"type": "stdout" | "stderr", "text"}``,
        ``{"type": "result", "result": {...}}``, at most one ``{"type": "error", "name",
        "value", "traceback"}``, and last ``{"type": "ended", "status", "execution_count"}``.
        Raises ``ToolkitError`` on failure. Closing the generator early interrupts the code."""
        try:
            request = code_pb.StreamPythonCodeRequest(sandbox_id=self._target(sandbox_id), client_id=self.client_id, code=code, timeout=duration(timeout))
        except (ValueError, TypeError) as err:
            raise to_toolkit_error(err) from None
        for res in self._stream(self._conn.code.StreamPythonCode, request, _run_deadline(timeout)):
            kind = res.WhichOneof("event")
            if kind == "started":
                yield {"type": "started", "execution_id": res.started.execution_id, "sandbox_id": res.started.sandbox_id}
            elif kind in ("stdout", "stderr"):
                yield {"type": kind, "text": getattr(res, kind)}
            elif kind == "result":
                yield {"type": "result", "result": result_dict(res.result)}
            elif kind == "error":
                yield {"type": "error", "name": res.error.name, "value": res.error.value, "traceback": res.error.traceback}
            elif kind == "ended":
                status = {execution_pb.EXECUTION_STATUS_FAILED: "error", execution_pb.EXECUTION_STATUS_CANCELLED: "cancelled"}
                yield {"type": "ended", "status": status.get(res.ended.status, "success"), "execution_count": res.ended.execution_count}

    def run_python_code_background(self, code: str, sandbox_id: Optional[str] = None, job_id: Optional[str] = None) -> Result:
        """Starts Python code as a background job: ``{"status": "accepted", "job_id",
        "sandbox_id", "execution_id"}``."""

        def run() -> Result:
            request = code_pb.StartPythonCodeRequest(
                sandbox_id=self._target(sandbox_id), client_id=self.client_id, code=code, job_id=job_id or ""
            )
            job = self._conn.call(self._conn.code.StartPythonCode, request).job
            return {"status": "accepted", "job_id": job.job_id, "sandbox_id": job.sandbox_id, "execution_id": job.execution_id}

        return self._guarded(run, sandbox_id=sandbox_id, job_id=job_id)

    def run_in_all_sandboxes(self, code: str, timeout_each: Optional[int] = None) -> Dict[str, Any]:
        """Runs code in every sandbox this toolkit manages, concurrently (on the server):
        ``{sandbox_id: result}``, or an error result if the call itself fails."""

        def run() -> Dict[str, Any]:
            request = code_pb.RunPythonCodeInAllSandboxesRequest(client_id=self.client_id, code=code, timeout_each=duration(timeout_each))
            # Sandboxes run in parallel on the server, a few at a time: allow several rounds.
            deadline = max(CREATE_DEADLINE, 10 * _run_deadline(timeout_each))
            res = self._conn.call(self._conn.code.RunPythonCodeInAllSandboxes, request, deadline)
            out: Dict[str, Any] = {}
            for o in res.outcomes:
                which = o.WhichOneof("outcome")
                if which == "execution":
                    out[o.sandbox_id] = execution_result(o.execution)
                else:
                    message = o.error.message if which == "error" else "no outcome"
                    out[o.sandbox_id] = {"status": "error", "error": message, "message": message, "sandbox_id": o.sandbox_id}
            return out

        return self._guarded(run)

    # ---- commands ----

    def run_command(self, command: str, sandbox_id: Optional[str] = None, background: bool = False, timeout: Optional[int] = None) -> Result:
        """Runs a shell command and waits for it: ``{"status": "success" | "error", "exit_code",
        "stdout", "stderr", "sandbox_id"}`` (``"error"`` for a non-zero exit code, with
        ``error``). With ``background=True``, as ``run_command_background``."""
        if background:
            return self.run_command_background(command, sandbox_id)

        def run() -> Result:
            target = self._target(sandbox_id)
            request = command_pb.RunCommandRequest(sandbox_id=target, client_id=self.client_id, command=command, timeout=duration(timeout))
            res = self._conn.call(self._conn.commands.RunCommand, request, _run_deadline(timeout))
            out: Result = {
                "status": "success" if res.exit_code == 0 else "error",
                "exit_code": res.exit_code,
                "stdout": res.stdout,
                "stderr": res.stderr,
                "sandbox_id": target or self._default_id,
            }
            if res.stdout_truncated:
                out["stdout_truncated"] = True
            if res.stderr_truncated:
                out["stderr_truncated"] = True
            if res.exit_code != 0:
                out["error"] = f"command exited with code {res.exit_code}"
            return out

        return self._guarded(run, sandbox_id=sandbox_id)

    def run_command_background(self, command: str, sandbox_id: Optional[str] = None, job_id: Optional[str] = None) -> Result:
        """Starts a command as a background job: ``{"status": "accepted", "job_id", "sandbox_id"}``."""

        def run() -> Result:
            request = command_pb.StartCommandRequest(sandbox_id=self._target(sandbox_id), client_id=self.client_id, command=command, job_id=job_id or "")
            job = self._conn.call(self._conn.commands.StartCommand, request).job
            return {"status": "accepted", "job_id": job.job_id, "sandbox_id": job.sandbox_id}

        return self._guarded(run, sandbox_id=sandbox_id, job_id=job_id)

    # ---- files ----

    def upload_file(self, local_path: str, sandbox_id: Optional[str] = None, sandbox_path: Optional[str] = None) -> Result:
        """Streams a local file into the sandbox: ``{"status": "success", "path", "size",
        "local_path", "sandbox_id"}``. ``sandbox_path`` defaults to the file's name (in the
        sandbox's home directory)."""

        def run() -> Result:
            size = os.stat(local_path).st_size
            if os.path.isdir(local_path):
                raise IsADirectoryError(errno.EISDIR, "not a file", local_path)
            with open(local_path, "rb") as source:
                target = self._target(sandbox_id)
                header = file_pb.UploadFileHeader(
                    sandbox_id=target, client_id=self.client_id, path=sandbox_path or os.path.basename(local_path), size_bytes=size
                )
                res = self._send_file(source, header)
            return {"status": "success", "path": res.file.path or header.path, "size": res.file.size_bytes or size, "local_path": local_path, "sandbox_id": target or self._default_id}

        return self._guarded(run, sandbox_id=sandbox_id, local_path=local_path)

    def _send_file(self, source: Any, header: Any) -> Any:
        """The client stream of UploadFile: the header, then the file in chunks. A local read
        error cancels the upload and is raised as itself (gRPC would log and hide it)."""
        read_error: list = []
        call_box: list = []

        def requests():
            yield file_pb.UploadFileRequest(header=header)
            while True:
                try:
                    chunk = source.read(self.upload_chunk_size)
                except OSError as err:
                    read_error.append(err)
                    if call_box:  # else the header's size_bytes makes the server reject the short upload
                        call_box[0].cancel()
                    return
                if not chunk:
                    return
                yield file_pb.UploadFileRequest(chunk=chunk)

        call = self._conn.files.UploadFile.future(requests(), timeout=TRANSFER_DEADLINE, metadata=self._conn.metadata, wait_for_ready=False)
        call_box.append(call)
        try:
            return call.result()
        except (grpc.RpcError, grpc.FutureCancelledError):
            if read_error:
                raise read_error[0] from None
            raise

    def download_file_from_sandbox(self, sandbox_path: str, sandbox_id: Optional[str] = None, local_path: Optional[str] = None) -> Result:
        """Streams a sandbox file to the local disk: ``{"status": "success", "local_path",
        "path", "size", "sandbox_id"}``. ``local_path`` defaults to the file's name in the
        current directory. The bytes go to a temporary file renamed into place once complete:
        a failed download leaves nothing half-written."""
        dest = os.path.abspath(local_path or os.path.basename(sandbox_path))

        def run() -> Result:
            target = self._target(sandbox_id)
            remote = {"path": sandbox_path}

            def fetch(out) -> int:
                n = 0
                request = file_pb.DownloadFileRequest(sandbox_id=target, client_id=self.client_id, path=sandbox_path)
                for res in self._stream(self._conn.files.DownloadFile, request, TRANSFER_DEADLINE):
                    part = res.WhichOneof("part")
                    if part == "file":
                        remote["path"] = res.file.path or sandbox_path
                    elif part == "chunk":
                        out.write(res.chunk)
                        n += len(res.chunk)
                return n

            size = write_atomically(dest, fetch)
            return {"status": "success", "local_path": dest, "path": remote["path"], "size": size, "sandbox_id": target or self._default_id}

        return self._guarded(run, sandbox_id=sandbox_id, path=sandbox_path, local_path=dest)

    def download_png_result(self, agent: Any = None, result_index: int = 0, sandbox_id: Optional[str] = None, output_path: Optional[str] = None) -> Result:
        """Saves the PNG of an execution's result: ``{"status": "success", "path", "size",
        "execution_id", "result_index"}``.

        ``agent`` says which execution: an execution id, a ``run_python_code`` result (its
        ``execution_id``), or anything else (the reference's agent object, or None) for the
        latest execution in the sandbox (``sandbox_id``, else the default one). ``output_path``
        defaults to ``result_<execution_id>_<index>.png``.
        """

        def run() -> Result:
            res = self._fetch_result(agent, result_index, sandbox_id, execution_pb.RESULT_FORMAT_PNG)
            if not res.result.HasField("png"):
                return {"status": "error", "error": "the result has no PNG", "message": "the result has no PNG", "code": "not_found", "execution_id": res.execution_id, "result_index": result_index}
            png = res.result.png
            dest = os.path.abspath(output_path or f"result_{res.execution_id}_{result_index}.png")
            write_atomically(dest, lambda out: out.write(png))
            return {"status": "success", "path": dest, "size": len(png), "execution_id": res.execution_id, "result_index": result_index}

        return self._guarded(run, result_index=result_index)

    def download_chart_data(
        self,
        agent: Any = None,
        result_index: int = 0,
        sandbox_id: Optional[str] = None,
        output_path: Optional[str] = None,
        add_as_artifact: bool = True,
    ) -> Result:
        """Returns the chart data of an execution's result: ``{"status": "success", "chart",
        "execution_id", "result_index"}``, also saved as JSON when ``output_path`` is given
        (``path``). ``agent`` is as in ``download_png_result``. ``add_as_artifact`` is
        accepted for compatibility: there is no agent framework here to attach artifacts to."""

        def run() -> Result:
            res = self._fetch_result(agent, result_index, sandbox_id, execution_pb.RESULT_FORMAT_CHART)
            if not res.result.HasField("chart"):
                return {"status": "error", "error": "the result has no chart data", "message": "the result has no chart data", "code": "not_found", "execution_id": res.execution_id, "result_index": result_index}
            chart = struct_dict(res.result.chart)
            out: Result = {"status": "success", "chart": chart, "execution_id": res.execution_id, "result_index": result_index}
            if output_path:
                dest = os.path.abspath(output_path)
                text = json.dumps(chart, indent=2).encode("utf-8")
                write_atomically(dest, lambda f: f.write(text))
                out["path"] = dest
            return out

        return self._guarded(run, result_index=result_index)

    def _fetch_result(self, ref: Any, result_index: int, sandbox_id: Optional[str], fmt: int) -> Any:
        execution_id = _execution_id_of(ref)
        request = code_pb.GetExecutionResultRequest(
            execution_id=execution_id,
            sandbox_id="" if execution_id else self._target(sandbox_id),
            client_id=self.client_id,
            result_index=result_index,
            formats=[fmt],
        )
        return self._conn.call(self._conn.code.GetExecutionResult, request)

    # ---- network ----

    def get_public_url(self, port: int, sandbox_id: Optional[str] = None) -> Result:
        """``{"status": "success", "url", "host", "port", "sandbox_id"}``."""

        def run() -> Result:
            target = self._target(sandbox_id)
            res = self._conn.call(self._conn.network.GetPublicUrl, network_pb.GetPublicUrlRequest(sandbox_id=target, client_id=self.client_id, port=port))
            return {"status": "success", "url": res.url, "host": res.host, "port": port, "sandbox_id": target or self._default_id}

        return self._guarded(run, port=port, sandbox_id=sandbox_id)

    def run_server(self, command: str, port: int, sandbox_id: Optional[str] = None, wait_seconds: int = 2) -> Result:
        """Starts a server and waits (up to ``wait_seconds``) until its port accepts
        connections: ``{"status", "url", "job_id", "ready", "port", "sandbox_id"}`` where status
        is ``"success"`` when ready, ``"starting"`` when the port is not ready yet but the job
        still runs, and ``"error"`` when the job has already ended (tail its logs to see why)."""

        def run() -> Result:
            target = self._target(sandbox_id)
            request = network_pb.RunServerRequest(sandbox_id=target, client_id=self.client_id, command=command, port=port, wait=duration(wait_seconds))
            res = self._conn.call(self._conn.network.RunServer, request, float(wait_seconds) + RUN_MARGIN)
            job = res.job if res.HasField("job") else None
            running = job is not None and job.status == job_pb.JOB_STATUS_RUNNING
            status = "success" if res.ready else "starting" if running else "error"
            out: Result = {
                "status": status,
                "url": res.url,
                "job_id": job.job_id if job else None,
                "ready": res.ready,
                "port": port,
                "sandbox_id": (job.sandbox_id if job else "") or target or self._default_id,
            }
            if status == "error":
                exit_code = f" (exit code {job.exit_code})" if job is not None and job.HasField("exit_code") else ""
                out["error"] = f"the server exited before port {port} accepted connections{exit_code}"
            elif status == "starting":
                out["message"] = f"port {port} did not accept connections within {wait_seconds}s; the server is still running"
            return out

        return self._guarded(run, port=port, sandbox_id=sandbox_id)

    # ---- jobs ----

    def get_job_status(self, job_id: str) -> Result:
        """The job's state (``status`` "running" | "done" | "error" | "cancelled", ``job_id``,
        ``kind``, ``exit_code``...), or ``{"status": "not_found", "job_id"}``."""

        def run() -> Result:
            try:
                return job_info(self._conn.call(self._conn.jobs.GetJob, job_service_pb.GetJobRequest(job_id=job_id)).job)
            except grpc.RpcError as err:
                if _is_not_found(err):
                    return {"status": "not_found", "job_id": job_id}
                raise

        return self._guarded(run, job_id=job_id)

    def kill_job(self, job_id: str) -> Result:
        """Kills a job's process tree: ``{"status": "success", "job_id", "job_status", "job"}``,
        or ``{"status": "not_found", "job_id"}``."""

        return self._job_action(job_id, self._conn.jobs.KillJob, job_service_pb.KillJobRequest(job_id=job_id))

    def delete_job(self, job_id: str, kill: bool = False) -> Result:
        """Deletes a job and its recorded output now (not in the reference API). A running job is
        killed first when ``kill`` is true, else refused (``{"status": "error", "reason":
        "JOB_RUNNING", ...}``). ``{"status": "success", "job_id", "job_status", "job"}``, or
        ``{"status": "not_found", "job_id"}``."""

        return self._job_action(job_id, self._conn.jobs.DeleteJob, job_service_pb.DeleteJobRequest(job_id=job_id, kill=kill))

    def _job_action(self, job_id: str, method, request) -> Result:
        """KillJob or DeleteJob as a result dict: the job it returns, or not_found."""

        def run() -> Result:
            try:
                info = job_info(self._conn.call(method, request).job)
                return {"status": "success", "job_id": job_id, "job_status": info["status"], "job": info}
            except grpc.RpcError as err:
                if _is_not_found(err):
                    return {"status": "not_found", "job_id": job_id}
                raise

        return self._guarded(run, job_id=job_id)

    def tail_job_logs(self, job_id: str, from_offset: int = 0, stderr_offset: int = 0, snapshot: bool = False) -> Iterator[Result]:
        """Follows a job's stdout and stderr until the job ends, yielding dicts:
        ``{"type": "started", "job", "stdout_offset", "stderr_offset"}`` first, then
        ``{"type": "stdout" | "stderr", "data": bytes, "text": str, "offset": int}`` as output
        arrives, and ``{"type": "ended", "job"}`` last. ``from_offset`` / ``stderr_offset`` are
        byte offsets to start from; a finished job is read in full; ``snapshot`` stops at the
        output there is now instead of following. Raises ``ToolkitError`` (code "not_found"
        for an unknown job). Closing the generator stops the tail, not the job."""
        decoders = {"stdout": _utf8_decoder(), "stderr": _utf8_decoder()}
        try:
            request = job_service_pb.TailJobLogsRequest(job_id=job_id, stdout_offset=from_offset, stderr_offset=stderr_offset, snapshot=snapshot)
        except (ValueError, TypeError) as err:
            raise to_toolkit_error(err) from None
        for res in self._stream(self._conn.jobs.TailJobLogs, request, None):
            kind = res.WhichOneof("event")
            if kind == "started":
                s = res.started
                yield {"type": "started", "job": job_info(s.job), "stdout_offset": s.stdout_offset, "stderr_offset": s.stderr_offset}
            elif kind in ("stdout", "stderr"):
                chunk = getattr(res, kind)
                yield {"type": kind, "data": chunk.data, "text": decoders[kind].decode(chunk.data), "offset": chunk.offset}
            elif kind == "ended":
                yield {"type": "ended", "job": job_info(res.ended.job)}

    # ---- sandboxes ----

    def create_sandbox(self, timeout: Optional[int] = None, metadata: Optional[Dict[str, Any]] = None, set_as_default: bool = False) -> Result:
        """``{"status": "success", "sandbox_id", "is_default", "metadata", "expire_time", ...}``."""

        def run() -> Result:
            slot = self.manager.create(timeout, metadata, client_id=self.client_id, set_as_default=set_as_default)
            if set_as_default:
                self._default_id = slot.sandbox_id
            return {"status": "success", **sandbox_info(slot.sandbox), "is_default": set_as_default or slot.is_default}

        return self._guarded(run)

    def list_managed_sandboxes(self) -> Result:
        """``{"status": "success", "sandboxes": [...], "count", "default_sandbox_id"}`` for the
        sandboxes this toolkit manages."""

        def run() -> Result:
            sandboxes = []
            token = ""
            while True:
                res = self._conn.call(self._conn.sandboxes.ListSandboxes, sandbox_pb.ListSandboxesRequest(client_id=self.client_id, page_token=token))
                sandboxes.extend(res.sandboxes)
                token = res.next_page_token
                if not token:
                    break
            default = next((s.sandbox_id for s in sandboxes if s.is_default), None)
            listed = [sandbox_info(s) for s in sandboxes]
            return {"status": "success", "sandboxes": listed, "count": len(listed), "default_sandbox_id": default}

        return self._guarded(run)

    def shutdown_sandbox(self, sandbox_id: Optional[str] = None) -> Result:
        """Shuts down a sandbox (default: the default one): ``{"status": "success", "sandbox_id"}``."""

        def run() -> Result:
            target = sandbox_id or self._default_id
            if not target:
                message = "no sandbox_id given and no default sandbox"
                return {"status": "error", "error": message, "message": message, "code": "failed_precondition"}
            res = self._conn.call(self._conn.sandboxes.ShutdownSandbox, sandbox_pb.ShutdownSandboxRequest(sandbox_id=target, client_id=self.client_id), CREATE_DEADLINE)
            done = res.sandbox_id or target
            if done == self._default_id:
                self._default_id = None
            return {"status": "success", "sandbox_id": done}

        return self._guarded(run, sandbox_id=sandbox_id)

    def shutdown_all_sandboxes(self) -> Result:
        """Shuts down every sandbox this toolkit manages: ``{"status": "success" | "partial",
        "shutdown": [ids], "errors": {id: message}, "count"}``."""

        def run() -> Result:
            res = self._conn.call(self._conn.sandboxes.ShutdownAllSandboxes, sandbox_pb.ShutdownAllSandboxesRequest(client_id=self.client_id), CREATE_DEADLINE)
            shutdown = [o.sandbox_id for o in res.outcomes if not o.HasField("error")]
            errors = {o.sandbox_id: o.error.message for o in res.outcomes if o.HasField("error")}
            if self._default_id in shutdown:
                self._default_id = None
            return {"status": "partial" if errors else "success", "shutdown": shutdown, "errors": errors, "count": len(shutdown)}

        return self._guarded(run)

    # ---- plumbing ----

    def _target(self, sandbox_id: Optional[str]) -> str:
        """The sandbox_id to send: the given one, else the default sandbox: the one this
        toolkit knows, else the one the server has for its client_id (a restarted agent that
        reuses its client_id finds it again), else one created now when auto_create_default is
        on. Else "", and the server fails with NO_DEFAULT_SANDBOX. Raises ToolkitError."""
        if sandbox_id:
            return sandbox_id
        if self._default_id:
            return self._default_id
        with self._default_lock:  # concurrent first calls share one lookup and one creation
            if not self._default_id:
                self._default_id = self._server_default()
            if not self._default_id and self.auto_create_default:
                self._default_id = self.manager.create(client_id=self.client_id, set_as_default=True).sandbox_id
            return self._default_id or ""

    def _server_default(self) -> Optional[str]:
        """The default sandbox the server has for this toolkit's client_id, if any."""
        try:
            res = self._conn.call(self._conn.sandboxes.GetSandbox, sandbox_pb.GetSandboxRequest(client_id=self.client_id))
            return res.sandbox.sandbox_id or None
        except grpc.RpcError as err:
            if isinstance(err, grpc.Call) and err.code() in (grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.NOT_FOUND):
                return None
            raise from_rpc_error(err, self.manager.base_url) from None

    def _stream(self, method: Callable, request: Any, deadline: Optional[float]) -> Iterator[Any]:
        """A server stream's messages; failures raise ToolkitError; closing cancels the call."""
        call = self._conn.call(method, request, deadline)
        try:
            for res in call:
                yield res
        except grpc.RpcError as err:
            raise from_rpc_error(err, self.manager.base_url) from None
        finally:
            call.cancel()

    def _guarded(self, fn: Callable[[], T], **context: Any) -> T:
        """Runs fn within the worker limit and turns failures into error results."""
        with self._workers:
            try:
                return fn()
            except Exception as err:  # every failure of a call becomes its result
                return to_toolkit_error(err, self.manager.base_url).as_result(**context)  # type: ignore[return-value]


def _run_deadline(timeout: Optional[float]) -> float:
    """The deadline of a call that runs user code: its timeout (or the server's default) plus a margin."""
    run = SERVER_DEFAULT_RUN_TIMEOUT if timeout is None else float(timeout)
    return run + RUN_MARGIN


def _is_not_found(err: grpc.RpcError) -> bool:
    return isinstance(err, grpc.Call) and err.code() == grpc.StatusCode.NOT_FOUND


def _execution_id_of(ref: Any) -> str:
    """The execution a download means: an id, a run_python_code result, or "" for the latest."""
    if isinstance(ref, str):
        return ref
    if isinstance(ref, dict):
        value = ref.get("execution_id") or ref.get("executionId")
        return value if isinstance(value, str) else ""
    return ""


def _utf8_decoder() -> codecs.IncrementalDecoder:
    """Incremental UTF-8 decoding: a character split across chunks comes out whole."""
    return codecs.getincrementaldecoder("utf-8")(errors="replace")
