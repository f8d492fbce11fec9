"""GRID: alignment units, id grammar, source layout, prepare (skips, resume), windows over the cache."""
import json
import os

import numpy as np
import pytest

from seedkit import media
from seedkit.data.clip import ClipSpec
from seedkit.data.grid import (
    PrepareConfig,
    clip_id_from_name,
    find_clips,
    grid_splits,
    grid_vocabulary,
    parse_alignment,
    prepare_grid,
    read_manifest,
    split_of,
    transcript_from_id,
)

BBAF2N_ALIGN = """0 23750 sil
23750 29500 bin
29500 34000 blue
34000 35500 at
35500 41000 f
41000 47250 two
47250 53000 now
53000 74500 sil
"""
SPEC = ClipSpec(fps=25.0, num_frames=24, size=32, sample_rate=16000)


def test_alignment_units_are_1_25000_of_a_second():
    words = parse_alignment(BBAF2N_ALIGN)
    assert words[0].word == "bin"
    assert words[0].start_s == pytest.approx(0.95) and words[0].end_s == pytest.approx(1.18)


def test_alignment_drops_silence_and_keeps_the_sentence():
    words = parse_alignment(BBAF2N_ALIGN + "74500 75000 sp\n")
    assert " ".join(w.word for w in words) == "bin blue at f two now"


def test_malformed_alignment_line_names_the_line():
    with pytest.raises(ValueError, match="x.align:2"):
        parse_alignment("0 100 sil\n100 bin\n", "x.align")


def test_id_grammar_gives_the_transcript():
    assert transcript_from_id("bbaf2n") == "bin blue at f two now"
    assert transcript_from_id("swiz3n") == "set white in z three now"
    assert transcript_from_id("lrwp9a") == "lay red with p nine again"


def test_id_outside_the_grammar_is_rejected():
    for bad in ("bbaw2n", "xbaf2n", "bbaf2", "bbaf2nn"):
        with pytest.raises(ValueError):
            transcript_from_id(bad)


def test_clip_id_is_read_from_the_end_of_a_file_name():
    assert clip_id_from_name("id2_vcd_swwp2s.mpg") == "swwp2s"
    assert clip_id_from_name("bbaf2n.mkv") == "bbaf2n"


def test_vocabulary_has_the_51_grid_words():
    vocab = grid_vocabulary()
    assert len(vocab) == len(set(vocab)) == 51
    assert {"bin", "blue", "at", "f", "two", "now", "zero", "please"} <= set(vocab)


def test_split_is_deterministic_and_roughly_90_5_5():
    keys = [f"s1/{i}" for i in range(2000)]
    splits = [split_of(k) for k in keys]
    assert splits == [split_of(k) for k in keys]
    assert 0.86 < splits.count("train") / 2000 < 0.94
    assert splits.count("val") > 50 and splits.count("test") > 50


def test_source_layout_prefers_mkv_and_finds_loose_clips(tmp_path):
    for rel in ("s1/bbaf2n.mkv", "s1/bbaf2n.mpg", "originals/s1/bbaf2n.mpg", "s1/lgaz8p.mpg",
                "other_speakers/id2_vcd_swwp2s.mpg", "other_speakers/notes.mpg",
                ".extract-x1y2/s1/bbaf2n.mkv", ".extract-x1y2/s1/pwij3p.mkv"):  # a killed download's leftovers
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(b"x")
    (tmp_path / "alignments/s1").mkdir(parents=True)
    (tmp_path / "alignments/s1/bbaf2n.align").write_text(BBAF2N_ALIGN)
    clips = {c.key: c for c in find_clips(tmp_path)}
    assert sorted(clips) == ["other_speakers/swwp2s", "s1/bbaf2n", "s1/lgaz8p"]
    assert clips["s1/bbaf2n"].path == tmp_path / "s1/bbaf2n.mkv"  # not the hidden folder's copy
    assert clips["s1/bbaf2n"].alignment.name == "bbaf2n.align"
    assert clips["other_speakers/swwp2s"].alignment is None
    assert clips["other_speakers/swwp2s"].transcript == "set white with p two soon"


def test_missing_source_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="not a folder"):
        find_clips(tmp_path / "nope")
    with pytest.raises(FileNotFoundError, match="no clips found"):
        find_clips(tmp_path)


# ----------------------------------------------------------------------------------------------
# prepare on tiny synthetic talkers: a skin-coloured head with red lips on GRID's blue background


def synthetic_talker(num_frames=30, h=96, w=120, mouth=(60, 66)):
    import cv2

    frames = np.zeros((num_frames, h, w, 3), np.uint8)
    frames[:] = (40, 170, 240)  # GRID blue
    for t, f in enumerate(frames):
        cv2.ellipse(f, (w // 2, 52), (24, 32), 0, 0, 360, (225, 180, 150), -1)  # head
        cv2.ellipse(f, (mouth[0], mouth[1]), (8, 2 + t % 4), 0, 0, 360, (200, 40, 60), -1)  # lips
    wav = 0.3 * np.sin(np.linspace(0, 440 * 2 * np.pi * num_frames / 25, num_frames * 640))
    return frames, wav.astype(np.float32)[None]


def make_source(root, n_good=2):
    frames, wav = synthetic_talker()
    for clip_id in ["bbaf2n", "lgaz8p", "pwij3p"][:n_good]:
        media.write(root / "s1" / f"{clip_id}.mkv", frames, wav, 25.0, 16000)
    (root / "alignments/s1").mkdir(parents=True)
    (root / "alignments/s1/bbaf2n.align").write_text(BBAF2N_ALIGN)
    good = (root / "s1/bbaf2n.mkv").read_bytes()
    (root / "s1/sbaz1s.mpg").write_bytes(b"")  # zero bytes
    (root / "s1/sbaz2s.mpg").write_bytes(good[: len(good) // 3])  # truncated
    (root / "s1/sbaz3s.mpg").write_bytes(os.urandom(4096))  # not media at all
    return root


def test_prepare_crops_the_mouth_and_skips_bad_files_with_reasons(tmp_path):
    src, cache = make_source(tmp_path / "src"), tmp_path / "cache"
    summary = prepare_grid(src, cache, PrepareConfig(size=32, min_frames=24, progress=False))
    assert (summary.prepared, summary.skipped) == (2, 3)
    recs = read_manifest(cache)
    assert recs["s1/sbaz1s"]["status"] == "skipped" and "empty" in recs["s1/sbaz1s"]["reason"]
    assert recs["s1/sbaz2s"]["status"] == "skipped" and "MediaError" in recs["s1/sbaz2s"]["reason"]
    assert recs["s1/sbaz3s"]["status"] == "skipped" and recs["s1/sbaz3s"]["reason"]
    ok = recs["s1/bbaf2n"]
    assert ok["frames_shape"] == [30, 32, 32, 3] and ok["transcript"] == "bin blue at f two now"
    assert ok["words"][0] == ["bin", 0.95, 1.18] and len(ok["source_sha256"]) == 64
    box = ok["crop_box"]
    assert abs(box["cx"] - 60) <= 3 and abs(box["cy"] - 66) <= 3  # centred on the lips
    with np.load(cache / ok["shard"]) as shard:
        assert shard["frames"].dtype == np.uint8 and shard["audio"].dtype == np.int16
        assert abs(len(shard["audio"]) - 30 * 640) < 1024
    again = prepare_grid(src, cache, PrepareConfig(size=32, min_frames=24, progress=False))
    assert (again.prepared, again.skipped, again.already_done) == (0, 0, 5)
    (src / "s1/sbaz2s.mpg").write_bytes((src / "s1/bbaf2n.mkv").read_bytes())  # the truncated file, replaced
    repaired = prepare_grid(src, cache, PrepareConfig(size=32, min_frames=24, progress=False))
    assert (repaired.prepared, repaired.skipped, repaired.already_done) == (1, 0, 4)
    assert read_manifest(cache)["s1/sbaz2s"]["status"] == "ok"


def test_interrupted_prepare_resumes_to_the_same_cache(tmp_path):
    src = make_source(tmp_path / "src", n_good=3)
    first = prepare_grid(src, tmp_path / "a", PrepareConfig(size=32, min_frames=24, limit=2, progress=False))
    assert first.prepared + first.skipped == 2
    (tmp_path / "a/manifest.jsonl").open("a").write('{"key": "s1/torn')  # killed mid-line
    prepare_grid(src, tmp_path / "a", PrepareConfig(size=32, min_frames=24, progress=False))
    prepare_grid(src, tmp_path / "b", PrepareConfig(size=32, min_frames=24, progress=False))
    resumed, oneshot = read_manifest(tmp_path / "a"), read_manifest(tmp_path / "b")
    assert sorted(resumed) == sorted(oneshot)
    assert {k: r["status"] for k, r in resumed.items()} == {k: r["status"] for k, r in oneshot.items()}
    for rec in oneshot.values():
        if rec["status"] == "ok":
            a, b = np.load(tmp_path / "a" / rec["shard"]), np.load(tmp_path / "b" / rec["shard"])
            assert np.array_equal(a["frames"], b["frames"]) and np.array_equal(a["audio"], b["audio"])


def test_windows_have_the_sample_format_and_word_times(tmp_path):
    src, cache = make_source(tmp_path / "src"), tmp_path / "cache"
    (src / "other_speakers").mkdir()
    frames, wav = synthetic_talker()
    media.write(src / "other_speakers/id2_vcd_swwp2s.mkv", frames, wav, 25.0, 16000)
    prepare_grid(src, cache, PrepareConfig(size=32, min_frames=24, progress=False))
    splits = grid_splits(SPEC, str(cache))
    assert sum(len(splits[k]) for k in ("train", "val", "test")) == 2
    assert [splits["unseen"].records[0]["key"]] == ["other_speakers/swwp2s"]
    ds = next(splits[k] for k in ("train", "val", "test") if any(
        r["key"] == "s1/bbaf2n" for r in splits[k].records))
    sample = ds[[r["key"] for r in ds.records].index("s1/bbaf2n")]
    assert sample["video"].shape == (24, 3, 32, 32) and sample["audio"].shape == (1, 24 * 640)
    assert -1 <= sample["video"].min() and sample["video"].max() <= 1
    window_start_s = 3 / 25  # centred: (30 - 24) // 2 frames in
    time_s, word = sample["events"][0]
    assert word == "bin" and time_s == pytest.approx(0.95 - window_start_s)
    assert sample["caption"] == "bin blue at f two now" and sample["id"] == "s1/bbaf2n"

    from seedkit.data import AVDataModule

    dm = AVDataModule("grid", batch_size=2, fps=25.0, num_frames=24, size=32, cache_dir=str(cache))
    batch = next(iter(dm._loader("unseen", shuffle=False)))
    assert batch["video"].shape == (1, 24, 3, 32, 32) and batch["text_ids"].shape == (1, 6)
    assert batch["text_mask"].all() and batch["caption"] == ["set white with p two soon"]


def test_grid_splits_without_a_cache_says_how_to_make_one(tmp_path):
    with pytest.raises(FileNotFoundError, match="seedkit data prepare grid"):
        grid_splits(SPEC, str(tmp_path))


# ----------------------------------------------------------------------------------------------
# the real corpus (SEEDKIT_GRID_SOURCE)


def test_real_clips_prepare_to_72_frame_windows(grid_source, tmp_path):
    src = tmp_path / "src"
    for rel in ("s1/bbaf2n.mkv", "alignments/s1/bbaf2n.align", "s1/sgib8n.mkv",
                "alignments/s1/sgib8n.align", "other_speakers/id2_vcd_swwp2s.mpg"):
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        (src / rel).symlink_to(grid_source / rel)  # never copy the corpus
    whole = (grid_source / "originals/s1/bbaf2n.mpg").read_bytes()
    (src / "s1/bbaf3s.mpg").write_bytes(whole[: len(whole) // 3])  # decodes, but only 26 frames
    summary = prepare_grid(src, tmp_path / "cache", PrepareConfig(workers=2, progress=False))
    assert (summary.prepared, summary.skipped) == (3, 1)
    assert "truncated" in summary.reasons["s1/bbaf3s"]
    splits = grid_splits(ClipSpec(fps=25.0, num_frames=72, size=64, sample_rate=16000), str(tmp_path / "cache"))
    seen = [ds[i] for k in ("train", "val", "test") for ds in [splits[k]] for i in range(len(ds))]
    sample = next(s for s in seen if s["id"] == "s1/bbaf2n")
    assert sample["video"].shape == (72, 3, 64, 64) and sample["audio"].shape == (1, 46080)
    assert sample["events"][0][1] == "bin" and sample["events"][0][0] == pytest.approx(0.95 - 0.04)
    assert sample["audio"].abs().max() > 0.05  # speech, not silence
    unseen = splits["unseen"][0]
    assert unseen["caption"] == "set white with p two soon" and unseen["events"] == []
    box = json.loads(json.dumps(read_manifest(tmp_path / "cache")["s1/bbaf2n"]["crop_box"]))
    assert 120 < box["cx"] < 190 and 180 < box["cy"] < 250  # s1's mouth in the 360x288 frame


def test_preview_grid_writes_the_prepared_windows_with_their_words(tmp_path, capsys):
    from seedkit.cli import main

    src, cache, out = make_source(tmp_path / "src"), tmp_path / "cache", tmp_path / "preview"
    prepare_grid(src, cache, PrepareConfig(size=32, min_frames=24, progress=False))
    assert main(["data", "preview", "grid", "--cache", str(cache), "--n", "5", "--frames", "24", "--size", "32",
                 "--out", str(out)]) == 0
    assert "wrote 2 mp4 clips" in capsys.readouterr().out  # the two clips that prepared, not 5
    info = media.probe(out / "s1_bbaf2n.mp4")
    assert info["video"]["fps"] == 25 and info["video"]["width"] == 32 and info["audio"]["sample_rate"] == 16000
    meta = json.loads((out / "s1_bbaf2n.json").read_text())
    # the centred 24 of 30 frames start at frame 3 (0.12 s): "bin" (0.95 s in the clip) at 0.83 s
    assert meta["transcript"] == "bin blue at f two now"
    assert meta["words"][0] == {"time_s": pytest.approx(0.83), "word": "bin"}
    assert json.loads((out / "s1_lgaz8p.json").read_text())["words"] == []  # no alignment for it
    assert (out / "contact_sheet.png").stat().st_size > 10_000
    # s1 has alignments, so no clip is an unseen speaker's; and a rate GRID was not prepared at is refused
    assert main(["data", "preview", "grid", "--cache", str(cache), "--split", "unseen", "--out", str(out)]) == 2
    assert "no prepared GRID clips in the 'unseen' split" in capsys.readouterr().err
    assert main(["data", "preview", "grid", "--cache", str(cache), "--fps", "16", "--out", str(out)]) == 2
    assert "--fps: GRID clips keep the rates" in capsys.readouterr().err


def test_grid_source_is_the_env_folder_when_it_holds_s1_else_the_shared_copy(tmp_path, monkeypatch):
    from seedkit.data.grid import grid_source

    (tmp_path / "mine" / "s1").mkdir(parents=True)
    monkeypatch.setenv("SEEDKIT_GRID_SOURCE", str(tmp_path / "mine"))
    assert grid_source() == tmp_path / "mine"
    monkeypatch.setenv("SEEDKIT_GRID_SOURCE", str(tmp_path))  # no s1/ there: the next place that has it
    fallback = grid_source()
    assert fallback != tmp_path and (fallback is None or (fallback / "s1").is_dir())
