"""Commands and background jobs: run_command, run_command_background, get_job_status,
kill_job and the tail_job_logs generator (live, from an offset, after the end)."""

import threading
import uuid

import pytest

from conftest import assert_error
from e2b_toolkit import ToolkitError


def test_run_command(toolkit):
    ok = toolkit.run_command("echo hello")
    assert ok == {"status": "success", "exit_code": 0, "stdout": "hello\n", "stderr": "", "sandbox_id": toolkit.default_sandbox_id}
    bad = toolkit.run_command("echo oops >&2; exit 3")
    assert bad["status"] == "error" and bad["exit_code"] == 3 and bad["stderr"] == "oops\n"
    assert bad["error"] == "command exited with code 3"
    assert_error(toolkit.run_command("sleep 30", timeout=1), code="deadline_exceeded", reason="EXECUTION_TIMED_OUT")


def test_background_flag_and_custom_job_id(toolkit):
    bg = toolkit.run_command("echo later", background=True)
    assert bg["status"] == "accepted" and bg["job_id"] and bg["sandbox_id"] == toolkit.default_sandbox_id
    job_id = f"py-cmd-{uuid.uuid4().hex[:8]}"
    named = toolkit.run_command_background("echo named", job_id=job_id)
    assert named == {"status": "accepted", "job_id": job_id, "sandbox_id": toolkit.default_sandbox_id}
    assert [e["text"] for e in toolkit.tail_job_logs(job_id) if e["type"] == "stdout"] == ["named\n"]


def test_tail_live_then_kill(toolkit):
    job = toolkit.run_command_background("for i in 1 2 3; do echo line$i; sleep 0.1; done; echo err >&2; sleep 60")
    job_id = job["job_id"]
    assert toolkit.get_job_status(job_id)["status"] == "running"

    stdout, stderr, types, ended = "", "", [], None
    for event in toolkit.tail_job_logs(job_id):
        types.append(event["type"])
        if event["type"] == "stdout":
            assert isinstance(event["data"], bytes) and event["offset"] == len(stdout.encode())
            stdout += event["text"]
        elif event["type"] == "stderr":
            stderr += event["text"]
            killed = toolkit.kill_job(job_id)
            assert killed["status"] == "success" and killed["job_status"] == "cancelled", killed
        elif event["type"] == "ended":
            ended = event
    assert types[0] == "started" and types[-1] == "ended"
    assert stdout == "line1\nline2\nline3\n" and stderr == "err\n"
    assert ended["job"]["status"] == "cancelled" and ended["job"]["job_id"] == job_id
    assert toolkit.get_job_status(job_id)["status"] == "cancelled"


def test_tail_from_offset_and_after_end(toolkit):
    job = toolkit.run_command_background("printf 'alpha\\nbeta\\ngamma\\n'")
    events = list(toolkit.tail_job_logs(job["job_id"]))
    assert events[-1]["job"]["status"] == "done" and events[-1]["job"]["exit_code"] == 0

    # After the end: read in full again, or from a byte offset.
    whole = "".join(e["text"] for e in toolkit.tail_job_logs(job["job_id"]) if e["type"] == "stdout")
    assert whole == "alpha\nbeta\ngamma\n"
    started, *rest = list(toolkit.tail_job_logs(job["job_id"], from_offset=6))
    assert started["type"] == "started" and started["stdout_offset"] == 6
    assert "".join(e["text"] for e in rest if e["type"] == "stdout") == "beta\ngamma\n"
    assert "".join(e["text"] for e in toolkit.tail_job_logs(job["job_id"], from_offset=1000) if e["type"] == "stdout") == ""


def test_two_tails_at_once_and_closing_one_early(toolkit):
    job = toolkit.run_command_background("for i in $(seq 1 5); do echo n$i; sleep 0.1; done")
    seen = []
    t = threading.Thread(target=lambda: seen.append("".join(e["text"] for e in toolkit.tail_job_logs(job["job_id"]) if e["type"] == "stdout")))
    t.start()
    tail = toolkit.tail_job_logs(job["job_id"])
    assert next(tail)["type"] == "started"
    tail.close()  # stops this tail only
    t.join(60)
    assert seen == ["".join(f"n{i}\n" for i in range(1, 6))]
    assert toolkit.get_job_status(job["job_id"])["status"] == "done"


def test_unknown_jobs(toolkit):
    assert toolkit.get_job_status("no-such-job") == {"status": "not_found", "job_id": "no-such-job"}
    assert toolkit.kill_job("no-such-job") == {"status": "not_found", "job_id": "no-such-job"}
    with pytest.raises(ToolkitError) as err:
        list(toolkit.tail_job_logs("no-such-job"))
    assert err.value.code == "not_found" and err.value.reason == "JOB_NOT_FOUND"
    assert "JOB_NOT_FOUND" in str(err.value)


def test_delete_job(toolkit):
    job_id = toolkit.run_command_background("sleep 60")["job_id"]
    refused = toolkit.delete_job(job_id)
    assert_error(refused, code="failed_precondition", reason="JOB_RUNNING")
    deleted = toolkit.delete_job(job_id, kill=True)
    assert deleted["status"] == "success" and deleted["job_status"] == "cancelled"
    assert toolkit.get_job_status(job_id) == {"status": "not_found", "job_id": job_id}
    assert toolkit.delete_job(job_id) == {"status": "not_found", "job_id": job_id}
