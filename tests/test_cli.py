import subprocess
import sys

from seedkit import media
from seedkit.cli import main


def test_help_lists_commands():
    out = subprocess.run([sys.executable, "-m", "seedkit.cli", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "data" in out.stdout and "demo" in out.stdout


def test_preview_writes_mp4s_with_sound_and_a_contact_sheet(tmp_path):
    assert main(["data", "preview", "bounce", "--n", "2", "--out", str(tmp_path)]) == 0
    info = media.probe(tmp_path / "bounce_000.mp4")
    assert info["video"]["codec"] == "h264" and info["video"]["width"] == 32
    assert info["video"]["fps"] == 16 and info["audio"]["codec"] == "aac"
    assert info["audio"]["sample_rate"] == 16000
    assert (tmp_path / "contact_sheet.png").stat().st_size > 10_000


def test_bad_option_is_a_user_error_with_exit_code_2(tmp_path, capsys):
    assert main(["data", "preview", "bounce", "--n", "0", "--out", str(tmp_path)]) == 2
    assert "--n must be at least 1" in capsys.readouterr().err
