"""Download GRID from Zenodo (record 3625687): resumable, checksummed, extracted atomically.

    TO/.downloads/<name>.zip            the archives (kept, so re-runs verify instead of fetching)
    TO/.downloads/<name>.zip.part       an interrupted transfer, resumed with an HTTP Range request
    TO/.downloads/manifest.json         name -> {url, bytes, sha256, extracted}
    TO/s1/, TO/alignments/s1/           the extracted corpus (the `--source` of prepare)

A failed or partial download leaves no half-extracted folder: archives are extracted into a
temporary folder inside TO and renamed into place; entries that would land outside it (zip-slip)
make the whole archive refused.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

from ..paths import write_text_atomic

ZENODO_BASE_URL = "https://zenodo.org/records/3625687/files"  # GRID, CC BY 4.0
CHUNK_BYTES = 1 << 20  # read size while streaming


class DownloadError(RuntimeError):
    """A transfer failed, was cut short, or its bytes do not match the recorded checksum."""


def archive_url(name: str, base_url: str | None = None) -> str:
    """`s1.zip` -> https://zenodo.org/records/3625687/files/s1.zip?download=1 (or under `base_url`)."""
    return f"{(base_url or ZENODO_BASE_URL).rstrip('/')}/{name}?download=1"


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(CHUNK_BYTES):
            h.update(block)
    return h.hexdigest()


def fetch(url: str, dest: Path, progress: bool = True, timeout_s: float = 60.0) -> Path:
    """Stream `url` to `dest`, resuming from `dest.part` if an earlier transfer was cut short.

    Raises DownloadError when the server sends fewer bytes than it announced (the `.part` file is
    kept so the next call resumes) or answers with an HTTP error.
    """
    from tqdm.auto import tqdm

    part = dest.with_name(dest.name + ".part")
    have = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"Range": f"bytes={have}-"} if have else {})
    try:
        response = urllib.request.urlopen(request, timeout=timeout_s)
    except urllib.error.HTTPError as e:
        if e.code == 416 and have:  # the .part already holds everything
            os.replace(part, dest)
            return dest
        raise DownloadError(f"{url}: HTTP {e.code} {e.reason}") from e
    except urllib.error.URLError as e:
        raise DownloadError(f"{url}: cannot connect ({e.reason})") from e
    with response:
        if have and response.status != 206:  # the server ignored Range: start over
            have = 0
        length = response.headers.get("Content-Length")
        total = have + int(length) if length is not None else None
        bar = tqdm(total=total, initial=have, unit="B", unit_scale=True, desc=dest.name, disable=not progress)
        try:
            with open(part, "ab" if have else "wb") as f:
                while True:
                    try:
                        block = response.read(CHUNK_BYTES)
                    except (OSError, ValueError) as e:  # IncompleteRead, reset connection
                        raise DownloadError(f"{url}: transfer cut short ({e}); run again to resume") from e
                    if not block:
                        break
                    f.write(block)
                    bar.update(len(block))
        finally:
            bar.close()
    got = part.stat().st_size
    if total is not None and got < total:
        raise DownloadError(f"{url}: transfer cut short ({got} of {total} bytes); run again to resume")
    os.replace(part, dest)
    return dest


def safe_extract(archive: Path, target: Path) -> list[str]:
    """Extract a zip into `target` atomically; returns the top-level names it added.

    Every entry is checked first: an absolute path or one that climbs out of `target` (zip-slip)
    raises ValueError and nothing is written. Top-level folders already in `target` are kept.
    """
    target.mkdir(parents=True, exist_ok=True)
    root = target.resolve()
    with zipfile.ZipFile(archive) as zf:
        for name in zf.namelist():
            dest = (root / name).resolve()
            if name.startswith(("/", "\\")) or (dest != root and root not in dest.parents):
                raise ValueError(f"{archive}: entry {name!r} would be written outside {target} (zip-slip); refused")
        tmp = Path(tempfile.mkdtemp(dir=target, prefix=".extract-"))
        try:
            zf.extractall(tmp)
            added = []
            for entry in sorted(tmp.iterdir()):
                final = target / entry.name
                if final.exists():
                    continue  # extracted by an earlier run
                os.replace(entry, final)
                added.append(entry.name)
            return added
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


def download_grid(to: str | os.PathLike, speakers=("s1",), base_url: str | None = None,
                  checksums: dict[str, str] | None = None, progress: bool = True) -> Path:
    """Download and extract `<speaker>.zip` for each speaker and `alignments.zip` into `to`.

    checksums: optional name -> sha256 the archives must match. Otherwise the first download's
    sha256 is recorded in the manifest and a re-run verifies the kept archive against it.
    """
    import re

    for s in speakers:
        if not re.fullmatch(r"s\d{1,2}", s) or not 1 <= int(s[1:]) <= 34:
            raise ValueError(f"--speakers: {s!r} is not a GRID speaker (s1 ... s34)")
    out = Path(to)
    for leftover in out.glob(".extract-*"):  # an extraction a kill stopped half-way: its clips may be torn
        shutil.rmtree(leftover, ignore_errors=True)
    store = out / ".downloads"
    store.mkdir(parents=True, exist_ok=True)
    manifest_path = store / "manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    expected = dict(checksums or {})
    for name in [f"{s}.zip" for s in speakers] + ["alignments.zip"]:
        url, archive = archive_url(name, base_url), store / name
        entry = manifest.get(name, {})
        want = expected.get(name) or entry.get("sha256")
        if not archive.exists():
            fetch(url, archive, progress=progress)
        digest = sha256_of(archive)
        if want and digest != want:
            archive.unlink()  # a bad archive is never extracted; the next run fetches it again
            raise DownloadError(f"{name}: sha256 {digest} does not match the expected {want}; "
                                f"the file was removed, run again to download it afresh")
        entry = {"url": url, "bytes": archive.stat().st_size, "sha256": digest,
                 "extracted": entry.get("extracted", False) and entry.get("sha256") == digest}
        manifest[name] = entry
        _write_json(manifest_path, manifest)
        if not entry["extracted"]:
            safe_extract(archive, out)
            entry["extracted"] = True
            _write_json(manifest_path, manifest)
    return out


def _write_json(path: Path, obj) -> None:
    write_text_atomic(path, json.dumps(obj, indent=1))
