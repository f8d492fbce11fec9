"""Writes notebooks/00_tour.ipynb (source of truth for its cells)."""
import nbformat as nbf

md, code = nbf.v4.new_markdown_cell, nbf.v4.new_code_cell
cells = [
    md("""# 00 · A tour of seedkit

**seedkit** teaches joint audio-video generation: *one* model that generates a short video and its
soundtrack together, so that an impact is heard on the frame where it is seen and lips move with the
words. It is the dual-tower diffusion transformer behind Seedance 2.0, MOVA, Ovi and LTX-2, reduced so
that you can build every part yourself and train it on a laptop CPU.

**Learning goals**
* how the kit represents a clip: frames `uint8 [T, H, W, 3]`, waveform `float32 [C, N]`, two clocks (fps, sample rate);
* play a clip with sound, and see *where* the sound is on the picture's clock;
* the built-in `bounce` dataset: every impact makes a sound whose timbre names the material;
* the road map of the notebooks to come.

**Time needed:** fast mode (`SEEDKIT_FAST=1`) measured 13 s of CPU time (57 s wall on a 2-core machine
shared with other jobs; see docs/teaching.md); full mode about the same (it only makes more clips). No GPU needed."""),
    code("""# Setup: works locally (after `make lab`) and on Colab (installs the kit when missing; never reinstalls torch).
import importlib.metadata
import importlib.util
import os

if importlib.util.find_spec("seedkit") is None:  # Colab or a fresh kernel: install the kit from git
    url = os.environ.get("SEEDKIT_GIT_URL")
    if not url:
        raise ImportError("seedkit is not installed: run `make lab` in the kit's folder, or on Colab "
                          "set SEEDKIT_GIT_URL to the kit's git URL and re-run this cell")
    %pip install -q --no-deps --ignore-requires-python "seedkit @ git+{url}"
    deps = [r for r in importlib.metadata.requires("seedkit")  # all but torch/torchaudio: keep the runtime's
            if "extra ==" not in r and not r.startswith("torch")]
    pkgs = " ".join(f"'{d}'" for d in deps)
    %pip install -q {pkgs}
    importlib.invalidate_caches()

import numpy as np
import torch
import matplotlib.pyplot as plt

FAST = os.environ.get("SEEDKIT_FAST") == "1"  # shrink everything so the notebook runs in seconds
SEED = 0
torch.manual_seed(SEED)
np.random.seed(SEED)
print("fast mode" if FAST else "full mode")"""),
    md("""## 1 · A clip is two arrays on two clocks

Video is a stack of frames sampled `fps` times per second; audio is a waveform sampled `sample_rate`
times per second. A `ClipSpec` fixes both, and the two clocks meet in seconds: frame `i` is at
`i / fps`, sample `n` at `n / sample_rate`. The built-in clip is 32 frames of 32x32 at 16 fps (2 s) with
16 kHz mono audio, so one video frame spans 1000 audio samples."""),
    code("""from seedkit.data import BOUNCE_SPEC, GRID_SPEC

for name, spec in [("bounce", BOUNCE_SPEC), ("grid", GRID_SPEC)]:
    print(f"{name:6s}: {spec.num_frames} frames {spec.size}x{spec.size} @ {spec.fps:g} fps, "
          f"{spec.num_samples} samples @ {spec.sample_rate} Hz = {spec.duration_s:.2f} s, "
          f"{spec.samples_per_frame:.0f} samples per frame")"""),
    md("""## 2 · The `bounce` dataset

Procedural scenes, deterministic per (seed, index): one or two objects fly and bounce off the walls.
Colour is the material (red rubber, blue metal, green wood, yellow glass) and sets the timbre of the
impact; the speed into the wall sets the loudness. The generator solves the motion in closed form, so
it knows the exact time of every impact: the ground truth our sync metrics are checked against."""),
    code("""from seedkit.data import BounceGenerator

gen = BounceGenerator()
scene = gen.scene(3)
print("caption:", scene.caption)
print("frames", scene.frames.shape, scene.frames.dtype, "| waveform", scene.waveform.shape, scene.waveform.dtype)
for e in scene.events:
    print(f"  impact at {e.time_s:.3f} s  {e.label:12s} {e.wall:6s} speed {e.speed:.2f}")"""),
    md("""### Play it (video with sound)

`seedkit.media.show` encodes an mp4 (H.264 + AAC) in memory and embeds an HTML5 player. Turn the sound on:
each knock lands on the frame where an object touches a wall."""),
    code("""from seedkit import media

media.show(frames=scene.frames, waveform=scene.waveform, fps=gen.config.spec.fps,
           sample_rate=gen.config.spec.sample_rate, width=256, caption=scene.caption)"""),
    md("""### Browse scenes

Pick a scene with the slider: the player and the impact list follow. (A slider needs a live kernel; the
player above is what a static render shows.)"""),
    code("""import ipywidgets as widgets
from IPython.display import HTML, display


def show_scene(index=3):
    s = gen.scene(index)
    display(HTML(media.player_html(frames=s.frames, waveform=s.waveform, fps=gen.config.spec.fps,
                                   sample_rate=gen.config.spec.sample_rate, width=256, caption=s.caption)))
    print("impacts:", ", ".join(f"{e.time_s:.2f} s ({e.label})" for e in s.events))


display(widgets.interactive(show_scene, index=widgets.IntSlider(3, 0, 31, description="scene")))"""),
    md("""### Where the sound is on the picture's clock

Top: frames over time. Bottom: the log-mel spectrogram of the soundtrack, with the true impact times
dashed. Every broadband click at a dashed line is an impact; its partials (the horizontal lines) tell
the material."""),
    code("""from seedkit.viz import clip_figure

events = [(e.time_s, e.label) for e in scene.events]
fig = clip_figure(scene.frames, scene.waveform, gen.config.spec.fps, gen.config.spec.sample_rate,
                  events, caption=scene.caption)
plt.show()"""),
    md("""### Check it yourself: motion energy vs sound energy

A crude signal joint generation has to learn: how much the picture changes (mean absolute frame
difference) and how loud the sound is, per video frame. They are not the same signal (a moving
object changes the picture all the time), but the sound spikes line up with the wall contacts."""),
    code("""from seedkit.viz import motion_energy

spec = gen.config.spec
hop = int(spec.samples_per_frame)
loud = np.sqrt((scene.waveform[0, : spec.num_frames * hop].reshape(spec.num_frames, hop) ** 2).mean(1))
t = np.arange(spec.num_frames) / spec.fps
fig, ax = plt.subplots(figsize=(8, 2.5))
ax.plot(t, motion_energy(scene.frames) / motion_energy(scene.frames).max(), label="motion energy")
ax.plot(t, loud / loud.max(), label="sound RMS")
for e in scene.events:
    ax.axvline(e.time_s, color="gray", ls="--", lw=0.8)
ax.set_xlabel("time (s)"); ax.legend(); plt.show()"""),
    md("""## 3 · Batches

`AVDataModule` is a LightningDataModule with fixed train/val/test splits (disjoint ranges of scene
indices) and a word vocabulary for the captions. Every dataset in the kit yields the same batch:"""),
    code("""from seedkit.data import AVDataModule

dm = AVDataModule(batch_size=4, num_train=16 if FAST else 256, num_val=8, num_test=8)
batch = next(iter(dm.train_dataloader()))
for k, v in batch.items():
    print(f"{k:10s}", tuple(v.shape) if hasattr(v, "shape") else v[:2])
print("vocabulary:", dm.vocab.words)"""),
    md("""A contact sheet of a few training clips (the same picture `seedkit data preview bounce` writes):"""),
    code("""from seedkit.data import video_to_frames
from seedkit.viz import contact_sheet

clips = [{"frames": video_to_frames(batch["video"][i]).numpy(), "waveform": batch["audio"][i].numpy(),
          "caption": batch["caption"][i], "events": batch["events"][i]} for i in range(2 if FAST else 4)]
contact_sheet(clips, spec.fps, spec.sample_rate); plt.show()"""),
    md("""## 4 · Road map

| notebook | you build | package module |
|---|---|---|
| 01_data | the GRID talking-face corpus: crops, alignments, mouth vs speech | `seedkit.data.grid` |
| 02_video_tokenizer | a 3D-conv video autoencoder (time /4, space /4 or /8) | `seedkit.tokenizers.video` |
| 03_audio_tokenizer | log-mel, a 1D-conv audio autoencoder, Griffin-Lim | `seedkit.tokenizers.audio` |
| 04_dual_towers | DiT blocks with adaLN-Zero, patchify, two asymmetric towers | `seedkit.model.towers` |
| 05_cross_attention | the bidirectional bridge and aligned temporal RoPE | `seedkit.model.bridge`, `rope` |
| 06_flow_matching | rectified flow, Euler/Heun, guidance | `seedkit.flow`, `seedkit.sampling` |
| 07_train_end_to_end | train on bounce, then GRID; text->AV, audio->video, video->audio | `seedkit.lit` |
| 08_evaluation | sync metrics you can trust: AV-Align, offsets, SyncNet-lite | `seedkit.metrics` |
| 09_ablations | does co-generation beat a sequential pipeline? | `seedkit.experiments` |

Next: `01_data.ipynb`."""),
]
nb = nbf.v4.new_notebook(cells=cells)
nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
nb.metadata["language_info"] = {"name": "python"}
nbf.write(nb, "notebooks/00_tour.ipynb")
