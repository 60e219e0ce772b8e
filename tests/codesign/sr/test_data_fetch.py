"""python -m codesign.data fetch|list: verifies, resumes, refuses bad files, keeps what it
verified. A local HTTP server (with Range) and a small mirror stand in for the internet."""
import errno
import hashlib
import http.server
import subprocess
import sys
import threading

import pytest

from codesign.sr.data import DataError, fetch, sets
from codesign.sr.data.cli import main
from codesign.sr.data.fetch import FetchError, fetch_sets, list_sets

FILES = {("set14", "a.png"): b"first file " * 40, ("set14", "b.png"): b"second" * 90,
         ("t91", "t1.bmp"): b"t91 image" * 30}
COMMIT = "c" * 40


@pytest.fixture
def small_manifest(tmp_path, monkeypatch):
    """A three-file manifest (set14: 2 files, t91: 1) in place of the real one."""
    table = tmp_path / "manifest.csv"
    table.write_text("set,file,repo,commit,path,bytes,sha256\n" + "".join(
        f"{s},{f},owner/repo,{COMMIT},dir/{f},{len(d)},{hashlib.sha256(d).hexdigest()}\n"
        for (s, f), d in FILES.items()))
    monkeypatch.setattr(sets, "MANIFEST", table)
    root = tmp_path / "root"
    monkeypatch.setenv("CODESIGN_DATA", str(root))
    return root


def _mirror(folder, content=None):
    for (s, f), data in FILES.items():
        path = folder / sets.SETS[s].folder / f
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes((content or {}).get(f, data))
    return folder


class _Server:
    """Serves FILES at /owner/repo/<commit>/dir/<file>, honouring Range; ``cut`` serves only
    the first n bytes of a file, ``body`` replaces a file's content; ``ranges`` logs Range."""

    def __init__(self):
        self.cut, self.body, self.ranges = {}, {}, []
        files = {f"/owner/repo/{COMMIT}/dir/{f}": (f, d) for (s, f), d in FILES.items()}
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                if self.path not in files:
                    self.send_error(404)
                    return
                name, data = files[self.path]
                data = server.body.get(name, data)
                start = 0
                if "Range" in self.headers:
                    server.ranges.append(self.headers["Range"])
                    start = int(self.headers["Range"].split("=")[1].rstrip("-"))
                    if start >= len(data):
                        self.send_error(416)
                        return
                chunk = data[start:server.cut.get(name, len(data))]
                self.send_response(206 if start else 200)
                self.send_header("Content-Length", str(len(chunk)))
                self.end_headers()
                self.wfile.write(chunk)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


@pytest.fixture
def server():
    s = _Server()
    yield s
    s.httpd.shutdown()


def test_fetch_from_a_mirror_verifies_every_file_and_skips_them_next_time(small_manifest, tmp_path):
    mirror = _mirror(tmp_path / "mirror")
    assert fetch_sets(["set14", "291"], mirror=mirror, log=lambda _: None) == {"set14": 2, "291": 1}
    assert (small_manifest / "set14" / "b.png").read_bytes() == FILES[("set14", "b.png")]
    assert (small_manifest / "291" / "t91" / "t1.bmp").is_file()
    assert fetch_sets(["set14"], mirror=mirror, log=lambda _: None) == {"set14": 0}
    present = {row["name"]: row["present"] for row in list_sets()}
    assert present["set14"] and present["t91"] and not present["bsd200"] and not present["b100"]


def test_a_mirror_file_with_a_wrong_sum_is_refused_and_verified_files_stay(small_manifest,
                                                                           tmp_path):
    mirror = _mirror(tmp_path / "mirror", {"b.png": b"tampered"})
    with pytest.raises(FetchError, match="does not match its recorded sha256"):
        fetch_sets(["set14"], mirror=mirror, log=lambda _: None)
    assert (small_manifest / "set14" / "a.png").read_bytes() == FILES[("set14", "a.png")]
    assert not (small_manifest / "set14" / "b.png").exists()


def test_download_over_http_resumes_from_the_partial_file(small_manifest, server):
    data = FILES[("set14", "b.png")]
    part = small_manifest / fetch.PARTIAL_DIR / "set14" / "b.png.part"
    part.parent.mkdir(parents=True)
    part.write_bytes(data[:100])
    fetch_sets(["set14"], base_url=server.url, log=lambda _: None)
    assert server.ranges == ["bytes=100-"]
    assert (small_manifest / "set14" / "b.png").read_bytes() == data and not part.exists()


def test_a_truncated_download_is_kept_for_resume_and_never_takes_its_name(small_manifest, server):
    server.cut["a.png"] = 50
    with pytest.raises(FetchError, match="stopped at 50 of 440 bytes"):
        fetch_sets(["set14"], base_url=server.url, log=lambda _: None)
    assert not (small_manifest / "set14" / "a.png").exists()
    server.cut.clear()
    fetch_sets(["set14"], base_url=server.url, log=lambda _: None)
    assert server.ranges == ["bytes=50-"]
    assert (small_manifest / "set14" / "a.png").read_bytes() == FILES[("set14", "a.png")]


def test_a_download_with_a_wrong_sum_is_removed(small_manifest, server):
    server.body["a.png"] = b"x" * len(FILES[("set14", "a.png")])
    with pytest.raises(FetchError, match="the download was removed"):
        fetch_sets(["set14"], base_url=server.url, log=lambda _: None)
    assert not (small_manifest / "set14" / "a.png").exists()
    assert not list((small_manifest / fetch.PARTIAL_DIR).rglob("*.part"))


def test_a_full_disk_is_one_line_and_keeps_what_was_verified(small_manifest, tmp_path, monkeypatch):
    mirror = _mirror(tmp_path / "mirror")
    fetch_sets(["set14"], mirror=mirror, log=lambda _: None)

    def full(path, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(fetch, "write_bytes_atomic", full)
    with pytest.raises(FetchError, match="No space left on device"):
        fetch_sets(["set14", "t91"], mirror=mirror, log=lambda _: None)
    assert (small_manifest / "set14" / "a.png").is_file()
    assert not (small_manifest / "291" / "t91" / "t1.bmp").exists()


def test_cli_refuses_unknown_sets_div2k_and_a_missing_mirror_in_one_line(small_manifest, tmp_path,
                                                                       capsys):
    for argv, text in ((["fetch", "div2k"], "DIV2K cannot be fetched"),
                       (["fetch", "set14", "--mirror", str(tmp_path / "none")], "is not a folder")):
        with pytest.raises(SystemExit) as exit_:
            main(argv)
        lines = capsys.readouterr().err.strip().splitlines()
        assert exit_.value.code == 2 and len(lines) == 1 and lines[0].startswith("error:"), argv
        assert text in lines[0]
    proc = subprocess.run([sys.executable, "-m", "codesign.data", "fetch", "set6"],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and proc.stderr.strip().splitlines() == [
        f"error: unknown data set 'set6'; known: {', '.join(sets.SETS)}"]
    assert not (small_manifest / "set6").exists()


def test_cli_list_names_every_set_and_where_it_lies(small_manifest, capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in sets.SETS)
    assert "set5      test  present" in out and str(sets.CARRIED["set5"]) in out


def test_data_error_is_the_base_of_fetch_errors():
    assert issubclass(FetchError, DataError)
