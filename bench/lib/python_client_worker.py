"""Times calls of the Python client (clients/python) for the toolkit benchmarks.

Reads one JSON request a line on stdin ({"op": "command" | "python", "sandbox_id", "arg"}),
makes the call through the reference API (E2BToolkit.run_command / run_python_code) and
answers one JSON line: the result and the call's own duration in ms, measured here so that
the pipe to the bench process is not counted. The server and key come from
E2B_TOOLKIT_URL / E2B_TOOLKIT_API_KEY.
"""

import json
import sys
import time

from e2b_toolkit import E2BToolkit, SandboxManager


def main() -> None:
    toolkit = E2BToolkit(SandboxManager(), auto_create_default=False, client_id="bench")
    for line in sys.stdin:
        req = json.loads(line)
        started = time.perf_counter()
        if req["op"] == "command":
            res = toolkit.run_command(req["arg"], req["sandbox_id"])
            out = {"exit_code": res.get("exit_code"), "stdout": res.get("stdout"), "error": res.get("error")}
        elif req["op"] == "python":
            res = toolkit.run_python_code(req["arg"], req["sandbox_id"])
            main_result = next((r for r in res.get("results", []) if r.get("is_main_result")), {})
            out = {"text": main_result.get("text"), "error": res.get("error")}
        else:
            out = {"error": f"unknown op {req['op']!r}"}
        out["ms"] = (time.perf_counter() - started) * 1000
        sys.stdout.write(json.dumps(out) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
