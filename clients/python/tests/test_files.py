"""Files: upload_file (client stream) and download_file_from_sandbox (server stream, written
atomically), with their bad inputs."""

import os

from conftest import assert_error


def test_round_trip_of_a_few_mib(toolkit, tmp_path):
    data = os.urandom(3 * 1024 * 1024 + 123)
    src = tmp_path / "blob.bin"
    src.write_bytes(data)
    up = toolkit.upload_file(str(src), sandbox_path="/home/user/data/blob.bin")
    assert up["status"] == "success", up
    assert up["path"] == "/home/user/data/blob.bin" and up["size"] == len(data)
    check = toolkit.run_command("sha256sum /home/user/data/blob.bin")
    import hashlib

    assert check["stdout"].split()[0] == hashlib.sha256(data).hexdigest()

    dest = tmp_path / "back" / "blob.bin"
    down = toolkit.download_file_from_sandbox("/home/user/data/blob.bin", local_path=str(dest))
    assert down == {"status": "success", "local_path": str(dest), "path": "/home/user/data/blob.bin", "size": len(data), "sandbox_id": toolkit.default_sandbox_id}
    assert dest.read_bytes() == data
    assert os.listdir(dest.parent) == ["blob.bin"]


def test_default_paths(toolkit, tmp_path, monkeypatch):
    src = tmp_path / "notes.txt"
    src.write_text("hello notes\n")
    up = toolkit.upload_file(str(src))
    assert up["status"] == "success" and up["path"].endswith("/notes.txt")
    assert toolkit.run_command("cat notes.txt")["stdout"] == "hello notes\n"
    out = tmp_path / "cwd"
    out.mkdir()
    monkeypatch.chdir(out)
    down = toolkit.download_file_from_sandbox("notes.txt")
    assert down["status"] == "success" and down["local_path"] == str(out / "notes.txt")
    assert (out / "notes.txt").read_text() == "hello notes\n"


def test_bad_inputs_leave_nothing_behind(toolkit, tmp_path):
    assert_error(toolkit.upload_file(str(tmp_path / "missing.txt")), code="enoent")
    assert_error(toolkit.upload_file(str(tmp_path)), code="eisdir")

    missing = toolkit.download_file_from_sandbox("/home/user/no/such/file", local_path=str(tmp_path / "out.txt"))
    assert_error(missing, code="not_found", reason="FILE_NOT_FOUND")
    assert missing["local_path"] == str(tmp_path / "out.txt")

    (tmp_path / "afile").write_text("x")
    toolkit.run_command("echo content > /home/user/small.txt")
    unwritable = toolkit.download_file_from_sandbox("/home/user/small.txt", local_path=str(tmp_path / "afile" / "out.txt"))
    assert unwritable["status"] == "error" and unwritable["code"] in ("eexist", "enotdir"), unwritable
    assert sorted(os.listdir(tmp_path)) == ["afile"]

    # An existing file is only replaced by a complete download.
    keep = tmp_path / "keep.txt"
    keep.write_text("old")
    assert toolkit.download_file_from_sandbox("/home/user/nothing-here", local_path=str(keep))["status"] == "error"
    assert keep.read_text() == "old"
    assert sorted(os.listdir(tmp_path)) == ["afile", "keep.txt"]
