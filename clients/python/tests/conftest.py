"""Fixtures for the Python client's tests, run against a real toolkit server.

The server comes from the environment (test/clients/python.test.ts starts one and sets them):
E2B_TOOLKIT_URL, E2B_TOOLKIT_API_KEY (a valid key) and E2B_TOOLKIT_TEST_OTHER_KEY (another
valid key, for isolation tests). Sandboxes are shared through session fixtures: creating
them is the slow part.
"""

import os
import socket

import pytest

from e2b_toolkit import E2BToolkit, SandboxManager


def _required(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        pytest.exit(f"{name} is not set: run these tests through `npx vitest run test/clients/python.test.ts`", returncode=2)
    return value


@pytest.fixture(scope="session")
def server_url() -> str:
    return _required("E2B_TOOLKIT_URL")


@pytest.fixture(scope="session")
def other_key() -> str:
    return _required("E2B_TOOLKIT_TEST_OTHER_KEY")


@pytest.fixture(scope="session")
def manager(server_url):
    _required("E2B_TOOLKIT_API_KEY")
    m = SandboxManager(default_timeout=600)
    yield m
    m.close()


@pytest.fixture(scope="session")
def toolkit(manager):
    """A toolkit with its default sandbox, created in the constructor as in the reference."""
    tk = E2BToolkit(manager)
    yield tk
    tk.shutdown_all_sandboxes()


@pytest.fixture
def fresh_toolkit(manager):
    """A toolkit without a default sandbox, whose sandboxes are shut down afterwards."""
    tk = E2BToolkit(manager, auto_create_default=False)
    yield tk
    tk.shutdown_all_sandboxes()


@pytest.fixture(scope="session")
def dead_url() -> str:
    """The URL of a port nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def assert_error(result, code=None, reason=None):
    """An error result in the reference's shape, with a message."""
    assert result["status"] == "error", result
    assert isinstance(result["error"], str) and result["error"], result
    assert result["message"] == result["error"]
    if code:
        assert result["code"] == code, result
    if reason:
        assert result.get("reason") == reason, result
