"""The reference's API, exactly: every method with its parameters, in order, and defaults
(from /work/shared/reference/e2b-toolkit-api.txt). An agent written against the reference
must run unchanged apart from its import line. Extra parameters must come after these and
have defaults."""

import inspect

import pytest

from e2b_toolkit import E2BToolkit, SandboxManager

R = inspect.Parameter.empty
REFERENCE = {
    (SandboxManager, "__init__"): [("api_key", None), ("default_timeout", 300), ("default_options", None)],
    (SandboxManager, "create"): [("timeout", None), ("metadata", None)],
    (SandboxManager, "connect"): [("sandbox_id", R)],
    (SandboxManager, "shutdown"): [("sandbox_id", R)],
    (E2BToolkit, "__init__"): [("sandbox_manager", R), ("auto_create_default", True), ("global_workers", 10)],
    (E2BToolkit, "run_python_code"): [("code", R), ("sandbox_id", None), ("timeout", None)],
    (E2BToolkit, "run_python_code_background"): [("code", R), ("sandbox_id", None), ("job_id", None)],
    (E2BToolkit, "run_in_all_sandboxes"): [("code", R), ("timeout_each", None)],
    (E2BToolkit, "run_command"): [("command", R), ("sandbox_id", None), ("background", False)],
    (E2BToolkit, "run_command_background"): [("command", R), ("sandbox_id", None), ("job_id", None)],
    (E2BToolkit, "upload_file"): [("local_path", R), ("sandbox_id", None), ("sandbox_path", None)],
    (E2BToolkit, "download_file_from_sandbox"): [("sandbox_path", R), ("sandbox_id", None), ("local_path", None)],
    # The reference's `agent` is required; here it may be left out: "the latest execution".
    (E2BToolkit, "download_png_result"): [("agent", None), ("result_index", 0), ("sandbox_id", None), ("output_path", None)],
    (E2BToolkit, "download_chart_data"): [
        ("agent", None),
        ("result_index", 0),
        ("sandbox_id", None),
        ("output_path", None),
        ("add_as_artifact", True),
    ],
    (E2BToolkit, "get_public_url"): [("port", R), ("sandbox_id", None)],
    (E2BToolkit, "run_server"): [("command", R), ("port", R), ("sandbox_id", None), ("wait_seconds", 2)],
    (E2BToolkit, "get_job_status"): [("job_id", R)],
    (E2BToolkit, "kill_job"): [("job_id", R)],
    (E2BToolkit, "create_sandbox"): [("timeout", None), ("metadata", None), ("set_as_default", False)],
    (E2BToolkit, "list_managed_sandboxes"): [],
    (E2BToolkit, "shutdown_sandbox"): [("sandbox_id", None)],
    (E2BToolkit, "shutdown_all_sandboxes"): [],
}


@pytest.mark.parametrize("cls, name", list(REFERENCE), ids=lambda x: getattr(x, "__name__", x))
def test_signature_matches_the_reference(cls, name):
    params = list(inspect.signature(getattr(cls, name)).parameters.values())[1:]  # without self
    expected = REFERENCE[(cls, name)]
    head = [(p.name, p.default) for p in params[: len(expected)]]
    assert head == expected
    for extra in params[len(expected) :]:
        assert extra.kind in (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.VAR_KEYWORD) or extra.default is not R, extra
