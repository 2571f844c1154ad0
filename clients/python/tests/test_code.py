"""Python execution: run_python_code, its streaming form, background runs, run_in_all_sandboxes,
and the results fetched later (download_png_result, download_chart_data)."""

import json
import os
import uuid

from conftest import assert_error

PLOT = """
import matplotlib.pyplot as plt
plt.figure()
plt.plot([1, 2, 3], [4, 5, 6], label="up")
plt.title("rising")
plt.show()
"""


def test_run_python_code_reference_shape(toolkit):
    r = toolkit.run_python_code(code="print('Hello, world!')\nresult = 2 + 2", timeout=30)
    assert r["status"] == "success"
    assert r["results"] == [{"logs": "Hello, world!\n"}]
    assert r["logs"] == {"stdout": "Hello, world!\n", "stderr": ""}
    assert r["sandbox_id"] == toolkit.default_sandbox_id
    assert r["execution_id"]
    # The kernel is stateful.
    r2 = toolkit.run_python_code("result * 10")
    assert r2["status"] == "success"
    assert r2["results"] == [{"is_main_result": True, "text": "40"}]


def test_exception_is_an_error_result(toolkit):
    r = toolkit.run_python_code("1 / 0")
    assert r["status"] == "error"
    assert r["error"] == "ZeroDivisionError: division by zero"
    assert r["error_name"] == "ZeroDivisionError"
    assert "ZeroDivisionError" in r["traceback"]


def test_execution_timeout_is_reported(toolkit):
    r = toolkit.run_python_code("import time; time.sleep(30)", timeout=1)
    assert_error(r, code="deadline_exceeded", reason="EXECUTION_TIMED_OUT")
    # The kernel survives the interrupt.
    assert toolkit.run_python_code("print('alive')")["results"] == [{"logs": "alive\n"}]


def test_stream_python_code(toolkit):
    events = list(toolkit.stream_python_code("import sys\nprint('a', flush=True)\nprint('b', file=sys.stderr)\n7 * 6"))
    assert events[0]["type"] == "started" and events[0]["execution_id"]
    assert {"type": "stdout", "text": "a\n"} in events
    assert {"type": "stderr", "text": "b\n"} in events
    assert {"type": "result", "result": {"is_main_result": True, "text": "42"}} in events
    assert events[-1]["type"] == "ended" and events[-1]["status"] == "success"

    failed = list(toolkit.stream_python_code("raise ValueError('nope')"))
    assert [e["type"] for e in failed] == ["started", "error", "ended"]
    assert failed[1]["name"] == "ValueError" and failed[-1]["status"] == "error"


def test_png_and_chart_of_a_plot(toolkit, tmp_path):
    r = toolkit.run_python_code(PLOT)
    assert r["status"] == "success", r
    rich = [x for x in r["results"] if "png" in x]
    assert len(rich) == 1 and "chart" in rich[0]
    index = r["results"].index(rich[0]) - (1 if r["results"][0].get("logs") else 0)

    out = tmp_path / "charts" / "plot.png"
    png = toolkit.download_png_result(r, index, output_path=str(out))
    assert png["status"] == "success", png
    assert png["path"] == str(out) and png["execution_id"] == r["execution_id"]
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) == png["size"]

    # By execution id, and "the latest execution" (the reference's agent argument).
    assert toolkit.download_png_result(r["execution_id"], index, output_path=str(tmp_path / "b.png"))["status"] == "success"
    latest = toolkit.download_png_result(None, index, output_path=str(tmp_path / "c.png"))
    assert latest["execution_id"] == r["execution_id"]

    chart = toolkit.download_chart_data(r, index, output_path=str(tmp_path / "chart.json"))
    assert chart["status"] == "success", chart
    assert chart["chart"]["type"] == "line" and chart["chart"]["title"] == "rising"
    assert chart["chart"]["elements"][0]["label"] == "up"
    assert json.loads((tmp_path / "chart.json").read_text()) == chart["chart"]
    assert "path" not in toolkit.download_chart_data(r, index, add_as_artifact=False)


def test_png_default_path_is_in_cwd(toolkit, tmp_path, monkeypatch):
    r = toolkit.run_python_code(PLOT)
    monkeypatch.chdir(tmp_path)
    png = toolkit.download_png_result(r["execution_id"])
    assert png["status"] == "success"
    assert png["path"] == str(tmp_path / f"result_{r['execution_id']}_0.png")


def test_result_download_errors(toolkit, tmp_path):
    text_only = toolkit.run_python_code("'just text'")
    assert_error(toolkit.download_png_result(text_only, 0, output_path=str(tmp_path / "x.png")), code="not_found")
    assert_error(toolkit.download_chart_data(text_only, 5), code="not_found")
    assert_error(toolkit.download_png_result("no-such-execution"), code="not_found", reason="EXECUTION_NOT_FOUND")
    assert list(tmp_path.iterdir()) == []

    # An unwritable output path: its parent is a file. Nothing is left behind.
    plot = toolkit.run_python_code(PLOT)
    (tmp_path / "file").write_text("x")
    bad = toolkit.download_png_result(plot, 0, output_path=str(tmp_path / "file" / "out.png"))
    assert bad["status"] == "error" and bad["code"] in ("eexist", "enotdir"), bad
    # An output path that is a directory.
    (tmp_path / "dir").mkdir()
    bad = toolkit.download_png_result(plot, 0, output_path=str(tmp_path / "dir"))
    assert bad["status"] == "error" and bad["code"] == "eisdir", bad
    assert sorted(os.listdir(tmp_path)) == ["dir", "file"] and os.listdir(tmp_path / "dir") == []


def test_python_background_job(toolkit):
    job = toolkit.run_python_code_background("import time\nfor i in range(3):\n    print('tick', i, flush=True)\n    time.sleep(0.2)")
    assert job["status"] == "accepted" and job["job_id"] and job["execution_id"]
    assert job["sandbox_id"] == toolkit.default_sandbox_id
    text = "".join(e["text"] for e in toolkit.tail_job_logs(job["job_id"]) if e["type"] == "stdout")
    assert text == "tick 0\ntick 1\ntick 2\n"
    status = toolkit.get_job_status(job["job_id"])
    assert status["status"] == "done" and status["kind"] == "python"

    job_id = f"py-job-{uuid.uuid4().hex[:8]}"
    assert toolkit.run_python_code_background("x = 1", job_id=job_id)["job_id"] == job_id
    again = toolkit.run_python_code_background("x = 1", job_id=job_id)
    assert_error(again, code="already_exists", reason="JOB_ALREADY_EXISTS")
    assert again["job_id"] == job_id


def test_run_in_all_sandboxes(fresh_toolkit):
    a = fresh_toolkit.create_sandbox(timeout=120)["sandbox_id"]
    b = fresh_toolkit.create_sandbox(timeout=120)["sandbox_id"]
    out = fresh_toolkit.run_in_all_sandboxes("import os\nprint(os.environ.get('HOME'))", timeout_each=30)
    assert set(out) == {a, b}
    for sid, r in out.items():
        assert r["status"] == "success" and r["sandbox_id"] == sid
        assert r["results"] == [{"logs": "/home/user\n"}]
