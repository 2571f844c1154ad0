"""Bad input and bad surroundings, each one clear error: a dead server, a wrong key, another
key's objects, unknown ids and invalid arguments."""

import pytest

from conftest import assert_error
from e2b_toolkit import E2BToolkit, SandboxManager, ToolkitError


def test_dead_server_fails_fast_with_one_clear_error(dead_url):
    m = SandboxManager(base_url=dead_url)
    tk = E2BToolkit(m)  # the constructor's default sandbox fails quietly; calls report it
    assert tk.default_sandbox_id is None
    r = tk.run_python_code("1")
    assert_error(r, code="unavailable")
    assert r["error"].startswith(f"cannot reach the toolkit server at {dead_url}")
    assert_error(tk.get_job_status("x"), code="unavailable")
    assert_error(m.shutdown("x"), code="unavailable")
    with pytest.raises(ToolkitError) as err:
        m.create()
    assert err.value.code == "unavailable"
    with pytest.raises(ToolkitError):
        next(tk.tail_job_logs("x"))
    m.close()


def test_wrong_key(server_url):
    m = SandboxManager(api_key="not-a-valid-key")
    tk = E2BToolkit(m)
    assert tk.default_sandbox_id is None
    assert_error(tk.run_command("true"), code="unauthenticated", reason="API_KEY_INVALID")
    assert_error(tk.list_managed_sandboxes(), code="unauthenticated")
    with pytest.raises(ToolkitError) as err:
        m.create()
    assert err.value.reason == "API_KEY_INVALID"
    m.close()


def test_keys_are_isolated(toolkit, other_key):
    job = toolkit.run_command_background("echo mine")
    other = E2BToolkit(SandboxManager(api_key=other_key), auto_create_default=False)
    assert other.get_job_status(job["job_id"]) == {"status": "not_found", "job_id": job["job_id"]}
    assert other.kill_job(job["job_id"]) == {"status": "not_found", "job_id": job["job_id"]}
    with pytest.raises(ToolkitError) as err:
        list(other.tail_job_logs(job["job_id"]))
    assert err.value.code == "not_found"
    assert_error(other.run_command("true", sandbox_id=toolkit.default_sandbox_id), code="not_found", reason="SANDBOX_NOT_FOUND")
    assert other.manager.shutdown(toolkit.default_sandbox_id)["code"] == "not_found"
    # The owner still has it.
    assert toolkit.run_command("echo still here")["stdout"] == "still here\n"


def test_unknown_sandbox_and_invalid_arguments(toolkit):
    assert_error(toolkit.run_python_code("1", sandbox_id="nosuchsandbox"), code="not_found", reason="SANDBOX_NOT_FOUND")
    r = toolkit.run_command("true", sandbox_id="nosuchsandbox")
    assert r["sandbox_id"] == "nosuchsandbox"
    assert_error(toolkit.run_python_code("1", timeout=-5), code="invalid_argument")
    assert_error(toolkit.run_command_background("true", job_id="bad id with spaces"), code="invalid_argument")
    assert_error(toolkit.get_public_url("not a port"), code="invalid_argument")
