"""Sandbox management through the toolkit: create_sandbox, list_managed_sandboxes,
shutdown_sandbox, shutdown_all_sandboxes, and each toolkit's own default sandbox."""

import threading
import uuid

from conftest import assert_error
from e2b_toolkit import E2BToolkit


def test_create_list_shutdown(fresh_toolkit):
    tk = fresh_toolkit
    assert tk.default_sandbox_id is None
    assert tk.list_managed_sandboxes() == {"status": "success", "sandboxes": [], "count": 0, "default_sandbox_id": None}
    # No default and no auto-create: the server's error, as a result.
    assert_error(tk.run_command("true"), code="failed_precondition", reason="NO_DEFAULT_SANDBOX")
    assert_error(tk.shutdown_sandbox(), code="failed_precondition")

    first = tk.create_sandbox(timeout=120, metadata={"purpose": "test"}, set_as_default=True)
    assert first["status"] == "success" and first["is_default"] is True and first["metadata"] == {"purpose": "test"}
    assert first["state"] == "running" and first["expire_time"].endswith("Z")
    assert tk.default_sandbox_id == first["sandbox_id"]
    second = tk.create_sandbox(timeout=120)
    assert second["is_default"] is False

    listed = tk.list_managed_sandboxes()
    assert listed["count"] == 2 and listed["default_sandbox_id"] == first["sandbox_id"]
    assert {s["sandbox_id"] for s in listed["sandboxes"]} == {first["sandbox_id"], second["sandbox_id"]}

    assert tk.shutdown_sandbox(second["sandbox_id"]) == {"status": "success", "sandbox_id": second["sandbox_id"]}
    assert tk.shutdown_sandbox() == {"status": "success", "sandbox_id": first["sandbox_id"]}
    assert tk.default_sandbox_id is None
    assert_error(tk.shutdown_sandbox(first["sandbox_id"]), code="not_found")

    third = tk.create_sandbox(timeout=60)
    all_ = tk.shutdown_all_sandboxes()
    assert all_ == {"status": "success", "shutdown": [third["sandbox_id"]], "errors": {}, "count": 1}
    assert tk.list_managed_sandboxes()["count"] == 0


def test_each_toolkit_has_its_own_default(manager):
    a = E2BToolkit(manager, auto_create_default=False)
    fixed = f"py-client-{uuid.uuid4().hex[:8]}"
    b = E2BToolkit(manager, client_id=fixed)
    try:
        assert a.client_id != b.client_id and b.client_id == fixed
        assert b.default_sandbox_id  # created by the constructor, as in the reference
        # Concurrent first calls of a lazily created default share one sandbox.
        c = E2BToolkit(manager, auto_create_default=False)
        c.auto_create_default = True
        results = []
        threads = [threading.Thread(target=lambda: results.append(c.run_command("echo c"))) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert len({r["sandbox_id"] for r in results}) == 1 and all(r["status"] == "success" for r in results)
        assert c.list_managed_sandboxes()["count"] == 1
        c.shutdown_all_sandboxes()

        # A sandbox of one toolkit is usable by id from another, but stays the other's.
        used = a.run_command("echo x", sandbox_id=b.default_sandbox_id)
        assert used["status"] == "success" and used["sandbox_id"] == b.default_sandbox_id
        assert a.list_managed_sandboxes()["count"] == 0

        # A restarted agent with the same client_id finds its default sandbox again.
        b2 = E2BToolkit(manager, client_id=fixed)
        assert b2.default_sandbox_id == b.default_sandbox_id
        assert b2.run_command("echo again")["sandbox_id"] == b.default_sandbox_id
        assert b2.list_managed_sandboxes()["count"] == 1
    finally:
        b.shutdown_all_sandboxes()
