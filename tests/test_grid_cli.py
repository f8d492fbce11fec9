"""`seedkit data prepare grid` / `seedkit data download grid`: user errors exit 2 with one clear line."""
from seedkit.cli import main


def test_prepare_with_a_missing_source_names_it(tmp_path, capsys):
    assert main(["data", "prepare", "grid", "--source", str(tmp_path / "nope"), "--cache", str(tmp_path / "c")]) == 2
    assert "nope" in capsys.readouterr().err


def test_prepare_rejects_zero_workers(tmp_path, capsys):
    (tmp_path / "s1").mkdir()
    code = main(["data", "prepare", "grid", "--source", str(tmp_path), "--workers", "0", "--cache", str(tmp_path / "c")])
    assert code == 2 and "--workers" in capsys.readouterr().err


def test_prepare_reports_a_summary_and_the_skips(tmp_path, capsys):
    (tmp_path / "s1").mkdir()
    (tmp_path / "s1/bbaf2n.mpg").write_bytes(b"")
    assert main(["data", "prepare", "grid", "--source", str(tmp_path), "--cache", str(tmp_path / "c")]) == 0
    out = capsys.readouterr().out
    assert "skipped s1/bbaf2n" in out and "prepared 0, skipped 1" in out


def test_download_rejects_an_unknown_speaker(tmp_path, capsys):
    assert main(["data", "download", "grid", "--speakers", "bob", "--to", str(tmp_path)]) == 2
    assert "--speakers" in capsys.readouterr().err


def test_download_from_an_unreachable_mirror_is_a_user_error(tmp_path, capsys):
    code = main(["data", "download", "grid", "--to", str(tmp_path), "--base-url", "http://127.0.0.1:9/files"])
    assert code == 2 and "cannot connect" in capsys.readouterr().err
    assert not (tmp_path / "s1").exists()
