"""GRID prepare over a source folder with broken files, and a prepare run killed with SIGKILL midway."""
import hashlib
import json
import signal
import subprocess
import sys
import time

import pytest
from runs import seedkit_env
from talkers import write_source

from seedkit.cli import main
from seedkit.data.grid import PrepareConfig, prepare_grid, read_manifest


def test_broken_files_are_skipped_with_a_reason_and_counted_by_kind(tmp_path, capsys):
    expected = write_source(tmp_path / "src", n_good=2)
    assert main(["data", "prepare", "grid", "--source", str(tmp_path / "src"), "--size", "32",
                 "--cache", str(tmp_path / "cache")]) == 0
    out = capsys.readouterr().out
    recs = read_manifest(tmp_path / "cache")
    assert [k for k, r in recs.items() if r["status"] == "ok"] == ["s1/bbaf2n", "s1/lgaz8p"]
    from seedkit.data.grid import skip_kind

    for key, kind in expected.items():
        assert recs[key]["status"] == "skipped", key
        assert skip_kind(recs[key]["reason"]) == kind, recs[key]["reason"]
        assert f"skipped {key}: " in out
    # the summary at the end counts each kind
    last = out.strip().splitlines()[-1]
    assert "prepared 2, skipped 6 (" in last, last
    for kind in expected.values():
        assert f"{kind} 1" in last, last
    # a second run redoes nothing, and says so
    assert main(["data", "prepare", "grid", "--source", str(tmp_path / "src"), "--size", "32",
                 "--cache", str(tmp_path / "cache")]) == 0
    assert "prepared 0, skipped 0, already done 8" in capsys.readouterr().out


def cache_fingerprint(cache):
    """Manifest records by key (without timings) and the sha256 of every shard file."""
    recs = read_manifest(cache)
    shards = {p.relative_to(cache).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
              for p in sorted((cache / "clips").rglob("*")) if p.is_file()}
    return json.dumps(recs, sort_keys=True), shards


@pytest.mark.slow
def test_prepare_killed_midway_and_restarted_gives_the_same_cache(tmp_path):
    src = tmp_path / "src"
    write_source(src, n_good=8)
    cmd = [sys.executable, "-m", "seedkit.cli", "data", "prepare", "grid", "--source", str(src),
           "--size", "32"]
    killed = tmp_path / "killed"
    proc = subprocess.Popen(cmd + ["--cache", str(killed)], env=seedkit_env(), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    manifest, t0, lines = killed / "manifest.jsonl", time.time(), 0
    while proc.poll() is None and time.time() - t0 < 120:
        lines = manifest.read_bytes().count(b"\n") if manifest.exists() else 0
        if lines >= 3:  # three of fourteen clips done: kill it
            proc.send_signal(signal.SIGKILL)
            break
        time.sleep(0.01)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, "prepare finished before it could be killed"
    partial = len(read_manifest(killed))
    assert 3 <= partial < 14
    # a kill can land mid-shard: leave a stray temporary file as such a kill would
    (killed / "clips/s1").mkdir(parents=True, exist_ok=True)
    (killed / "clips/s1/.swiz3n.abc123.npz.part").write_bytes(b"PK\x03\x04 half a shard")

    resumed = prepare_grid(src, killed, PrepareConfig(size=32, progress=False))
    assert resumed.already_done == partial and resumed.prepared + resumed.skipped == 14 - partial
    prepare_grid(src, tmp_path / "once", PrepareConfig(size=32, progress=False))
    records_killed, shards_killed = cache_fingerprint(killed)
    records_once, shards_once = cache_fingerprint(tmp_path / "once")
    assert len(shards_once) == 8
    assert shards_killed == shards_once  # same files, byte for byte (no stray .part left)
    assert records_killed == records_once.replace(str(tmp_path / "once"), str(killed))
