"""GRID downloader end to end against a local HTTP server (127.0.0.1, started by the test)."""
import hashlib
import http.server
import io
import re
import threading
import zipfile

import pytest

from seedkit.data.grid_download import DownloadError, download_grid, safe_extract


def make_zip(entries: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return buf.getvalue()


class Server:
    """Serves `files` (name -> bytes) with Range support; `cut_next` cuts the next body in half."""

    def __init__(self, files):
        self.files, self.cut_next, self.requests = dict(files), set(), []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                name = self.path.split("?")[0].rsplit("/", 1)[-1]
                outer.requests.append((name, self.headers.get("Range")))
                if name not in outer.files:
                    self.send_error(404)
                    return
                data, start = outer.files[name], 0
                m = re.fullmatch(r"bytes=(\d+)-", self.headers.get("Range") or "")
                if m:
                    start = int(m.group(1))
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                else:
                    self.send_response(200)
                body = data[start:]
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if name in outer.cut_next:  # announce everything, send half, hang up
                    outer.cut_next.discard(name)
                    body = body[: len(body) // 2]
                    self.close_connection = True
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/records/3625687/files"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


S1_ZIP = make_zip({"s1/bbaf2n.mpg": b"video" * 20000, "s1/lgaz8p.mpg": b"clip" * 5000})
ALIGN_ZIP = make_zip({"alignments/s1/bbaf2n.align": b"0 23750 sil\n23750 29500 bin\n"})


def test_download_extracts_the_corpus_and_records_checksums(tmp_path):
    with Server({"s1.zip": S1_ZIP, "alignments.zip": ALIGN_ZIP}) as srv:
        out = download_grid(tmp_path / "grid", base_url=srv.url, progress=False)
    assert (out / "s1/bbaf2n.mpg").read_bytes() == b"video" * 20000
    assert (out / "alignments/s1/bbaf2n.align").exists()
    manifest = (out / ".downloads/manifest.json").read_text()
    assert hashlib.sha256(S1_ZIP).hexdigest() in manifest
    assert not list(out.glob(".extract-*"))


def test_rerun_verifies_and_fetches_nothing(tmp_path):
    with Server({"s1.zip": S1_ZIP, "alignments.zip": ALIGN_ZIP}) as srv:
        download_grid(tmp_path, base_url=srv.url, progress=False)
        n = len(srv.requests)
        torn = tmp_path / ".extract-k1ll3d" / "s1"  # an extraction a kill stopped half-way
        torn.mkdir(parents=True)
        (torn / "bbaf2n.mpg").write_bytes(b"vid")
        download_grid(tmp_path, base_url=srv.url, progress=False)
        assert len(srv.requests) == n
    assert not list(tmp_path.glob(".extract-*"))  # cleared by the rerun


def test_truncated_transfer_leaves_no_folder_and_resumes_with_range(tmp_path):
    with Server({"s1.zip": S1_ZIP, "alignments.zip": ALIGN_ZIP}) as srv:
        srv.cut_next.add("s1.zip")
        with pytest.raises(DownloadError, match="cut short"):
            download_grid(tmp_path, base_url=srv.url, progress=False)
        assert not (tmp_path / "s1").exists()
        part = tmp_path / ".downloads/s1.zip.part"
        assert 0 < part.stat().st_size < len(S1_ZIP)
        download_grid(tmp_path, base_url=srv.url, progress=False)
        assert ("s1.zip", f"bytes={len(S1_ZIP) // 2}-") in srv.requests  # resumed, not restarted
        assert not part.exists()
    assert (tmp_path / "s1/lgaz8p.mpg").read_bytes() == b"clip" * 5000


def test_checksum_mismatch_refuses_the_archive(tmp_path):
    with Server({"s1.zip": S1_ZIP, "alignments.zip": ALIGN_ZIP}) as srv:
        with pytest.raises(DownloadError, match="does not match"):
            download_grid(tmp_path, base_url=srv.url, progress=False, checksums={"s1.zip": "0" * 64})
        assert not (tmp_path / "s1").exists() and not (tmp_path / ".downloads/s1.zip").exists()


def test_tampered_archive_is_caught_on_rerun(tmp_path):
    with Server({"s1.zip": S1_ZIP, "alignments.zip": ALIGN_ZIP}) as srv:
        download_grid(tmp_path, base_url=srv.url, progress=False)
        (tmp_path / ".downloads/s1.zip").write_bytes(S1_ZIP[:-10] + b"0123456789")
        with pytest.raises(DownloadError, match="sha256"):
            download_grid(tmp_path, base_url=srv.url, progress=False)
        download_grid(tmp_path, base_url=srv.url, progress=False)  # fetched afresh
        assert (tmp_path / ".downloads/s1.zip").read_bytes() == S1_ZIP


def test_zip_slip_archive_is_refused_whole(tmp_path):
    archive = tmp_path / "evil.zip"
    archive.write_bytes(make_zip({"s1/ok.mpg": b"x", "../../escaped.txt": b"owned"}))
    target = tmp_path / "out"
    with pytest.raises(ValueError, match="zip-slip"):
        safe_extract(archive, target)
    assert not (tmp_path / "escaped.txt").exists() and not (target / "s1").exists()


def test_zip_slip_through_the_downloader_leaves_nothing(tmp_path):
    evil = make_zip({"s1/ok.mpg": b"x", "../escaped.txt": b"owned"})
    with Server({"s1.zip": evil, "alignments.zip": ALIGN_ZIP}) as srv, \
            pytest.raises(ValueError, match="zip-slip"):
        download_grid(tmp_path / "grid", base_url=srv.url, progress=False)
    assert not (tmp_path / "escaped.txt").exists() and not (tmp_path / "grid/s1").exists()


def test_unknown_speaker_is_a_user_error(tmp_path):
    for bad in ("bob", "s0", "s35", "s99"):  # GRID's talkers are s1 ... s34: refused before any connection
        with pytest.raises(ValueError, match="--speakers"):
            download_grid(tmp_path, speakers=[bad], progress=False)


def test_missing_file_on_server_is_reported(tmp_path):
    with Server({"alignments.zip": ALIGN_ZIP}) as srv, pytest.raises(DownloadError, match="404"):
        download_grid(tmp_path, base_url=srv.url, progress=False)
