"""SandboxManager: create, connect, shutdown, and SandboxSlot."""

from datetime import datetime

import pytest

from e2b_toolkit import SandboxManager, SandboxSlot, ToolkitError


def test_reference_defaults(server_url, monkeypatch):
    monkeypatch.setenv("E2B_TOOLKIT_API_KEY", "from-env")
    m = SandboxManager()
    assert m.default_timeout == 300
    assert m.default_options == {}
    assert m.api_key == "from-env"
    assert m.base_url == server_url
    m.close()
    explicit = SandboxManager(api_key="k", default_timeout=360, default_options={"envs": {"A": "1"}}, base_url="http://127.0.0.1:9/")
    assert (explicit.api_key, explicit.default_timeout, explicit.base_url) == ("k", 360, "http://127.0.0.1:9")
    explicit.close()


def test_create_connect_shutdown(manager):
    slot = manager.create(timeout=120, metadata={"purpose": "py-test", "n": 1})
    assert isinstance(slot, SandboxSlot)
    assert slot.sandbox_id.isalnum() and slot.sandbox_id.islower()
    assert slot.metadata == {"purpose": "py-test", "n": "1"}
    assert isinstance(slot.created_at, datetime) and isinstance(slot.expires_at, datetime)
    assert 100 <= (slot.expires_at - slot.created_at).total_seconds() <= 130

    again = manager.connect(slot.sandbox_id)
    assert again.sandbox_id == slot.sandbox_id

    assert slot.shutdown() == {"status": "success", "sandbox_id": slot.sandbox_id, "result": True}
    gone = manager.shutdown(slot.sandbox_id)
    assert gone["status"] == "error" and gone["code"] == "not_found" and gone["result"] is None
    assert gone["sandbox_id"] == slot.sandbox_id


def test_default_options_apply_to_created_sandboxes(server_url):
    m = SandboxManager(default_options={"envs": {"GREETING": "hello"}, "metadata": {"team": "py"}})
    slot = m.create(timeout=60, metadata={"extra": "x"})
    try:
        assert slot.metadata == {"team": "py", "extra": "x"}
        from e2b_toolkit import E2BToolkit

        tk = E2BToolkit(m, auto_create_default=False)
        assert tk.run_command("echo $GREETING", sandbox_id=slot.sandbox_id)["stdout"] == "hello\n"
    finally:
        m.shutdown(slot.sandbox_id)
        m.close()


def test_errors_raise_toolkit_error(manager):
    with pytest.raises(ToolkitError) as err:
        manager.connect("nosuchsandbox")
    assert err.value.code == "not_found"
    assert err.value.reason == "SANDBOX_NOT_FOUND"
    with pytest.raises(ToolkitError) as err:
        manager.create(timeout=-1)
    assert err.value.code == "invalid_argument"
