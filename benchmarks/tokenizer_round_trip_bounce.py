"""What the tokenizers keep of the events: bounce clips through encode -> decode, scored like the demo.

    .venv/bin/python benchmarks/tokenizer_round_trip_bounce.py \
        --video checkpoints/tokenizer_video_bounce.pt --audio checkpoints/tokenizer_audio_bounce.pt --n 64

Clips are bounce scenes 4096.. (the val split of `AVDataModule`, never trained on). Each row scores
one version of the clips against the ground-truth impacts and against each other (tolerance one
frame, 62.5 ms); `event_f1` is the per-clip mean of audio onsets vs visual impacts, the figure
`seedkit demo` reports for generated clips, so the `round_trip` row is the ceiling a generated
clip can reach with these tokenizers:

* real             raw frames, raw waveform
* gl_only          raw frames, waveform = Griffin-Lim of the raw mel (what the vocoder alone costs)
* video_rt         decoded frames, raw waveform
* audio_rt         raw frames, Griffin-Lim of the decoded mel
* round_trip       decoded frames, Griffin-Lim of the decoded mel

Also prints video PSNR / SSIM and audio mel L1 / spectral convergence of the same clips.
"""
from __future__ import annotations

import argparse
import json
from types import SimpleNamespace

import numpy as np
import torch

from seedkit.data import frames_to_video, video_to_frames
from seedkit.data.bounce import BounceGenerator
from seedkit.metrics.events import bounce_sync_report, event_sync_score
from seedkit.tokenizers import AudioAutoencoder, VideoAutoencoder, mel_l1, psnr, spectral_convergence, ssim


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--video", default="checkpoints/tokenizer_video_bounce.pt")
    ap.add_argument("--audio", default="checkpoints/tokenizer_audio_bounce.pt")
    ap.add_argument("--n", type=int, default=64, help="clips (scenes start .. start + n - 1)")
    ap.add_argument("--start", type=int, default=4096, help="first scene (4096 = the val split)")
    args = ap.parse_args()

    vae = VideoAutoencoder.from_checkpoint(args.video)
    aae = AudioAutoencoder.from_checkpoint(args.audio)
    gen = BounceGenerator()
    spec = gen.config.spec
    scenes = [gen.scene(i) for i in range(args.start, args.start + args.n)]

    video = torch.stack([frames_to_video(s.frames) for s in scenes])  # [B, T, 3, H, W]
    audio = torch.stack([torch.from_numpy(s.waveform) for s in scenes])  # [B, 1, N]
    with torch.no_grad():
        video_rt = torch.cat([vae.decode(vae.encode(v)) for v in video.split(16)]).clamp(-1, 1)
        mel = aae.mel(audio)
        mel_rt = torch.cat([aae.decode(aae.encode(a)) for a in audio.split(16)])
        wav_gl = aae.mel_to_waveform(mel)
        wav_rt = aae.mel_to_waveform(mel_rt)
        mel_gl_rt = aae.mel(wav_rt)

    frames = {"raw": [s.frames for s in scenes], "rt": [video_to_frames(v).numpy() for v in video_rt]}
    wavs = {"raw": [s.waveform for s in scenes], "gl": [w.numpy() for w in wav_gl],
            "rt": [w.numpy() for w in wav_rt]}
    rows = {"real": ("raw", "raw"), "gl_only": ("raw", "gl"), "video_rt": ("rt", "raw"),
            "audio_rt": ("raw", "rt"), "round_trip": ("rt", "rt")}
    keep = ("f1", "precision", "recall", "mean_abs_offset_ms")
    out: dict = {"n_clips": args.n, "first_scene": args.start, "video": args.video, "audio": args.audio,
                 "video_psnr_db": round(psnr(video_rt, video).mean().item(), 2),
                 "video_ssim": round(ssim(video_rt, video).mean().item(), 4),
                 "audio_mel_l1": round(mel_l1(mel_rt, mel).mean().item(), 3),
                 "audio_spectral_convergence": round(spectral_convergence(mel_rt, mel).mean().item(), 3),
                 "audio_gl_round_trip_mel_l1": round(mel_l1(mel_gl_rt, mel).mean().item(), 3),
                 "audio_gl_round_trip_spectral_convergence":
                     round(spectral_convergence(mel_gl_rt, mel).mean().item(), 3)}
    for name, (fk, wk) in rows.items():
        clips = [SimpleNamespace(frames=f, waveform=w, events=s.events)
                 for f, w, s in zip(frames[fk], wavs[wk], scenes)]
        rep = bounce_sync_report(clips, spec.fps, spec.sample_rate)
        row = {k: {x: round(v[x], 3) for x in keep} for k, v in rep.items() if isinstance(v, dict)}
        per_clip = [event_sync_score(c.frames, c.waveform, spec.fps, spec.sample_rate).f1 for c in clips]
        row["event_f1"] = round(float(np.mean(per_clip)), 3)  # as `seedkit demo` scores samples
        out[name] = row
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
