"""Servers in a sandbox: run_server (readiness, not sleeps) and get_public_url."""

import urllib.request

from conftest import assert_error


def test_run_server_and_fetch_it(toolkit):
    toolkit.run_command("mkdir -p site && echo 'hi from the sandbox' > site/index.html")
    server = toolkit.run_server(command="cd site && python3 -m http.server 8000", port=8000, wait_seconds=30)
    assert server["status"] == "success" and server["ready"] is True, server
    assert server["port"] == 8000 and server["job_id"] and server["sandbox_id"] == toolkit.default_sandbox_id
    with urllib.request.urlopen(server["url"] + "/index.html", timeout=30) as res:
        assert res.read() == b"hi from the sandbox\n"

    url = toolkit.get_public_url(8000)
    assert url["status"] == "success" and url["url"] == server["url"] and url["port"] == 8000
    assert url["host"] in url["url"]

    assert toolkit.kill_job(server["job_id"])["job_status"] == "cancelled"


def test_server_that_exits(toolkit):
    r = toolkit.run_server("echo no server here; exit 4", 8001, wait_seconds=20)
    assert r["status"] == "error" and r["ready"] is False
    assert "exit code 4" in r["error"]
    assert_error(toolkit.get_public_url(70000), code="invalid_argument")
