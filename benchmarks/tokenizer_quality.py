"""Tokenizer quality on a val split: video PSNR / SSIM, audio mel L1 / spectral convergence.

    .venv/bin/python benchmarks/tokenizer_quality.py --dataset grid \
        --video checkpoints/tokenizer_video_grid.pt --audio checkpoints/tokenizer_audio_grid.pt

Either checkpoint may be left out. Audio rows: `autoencoder` (decoded mel vs input mel),
`griffin_lim_input` (input mel -> Griffin-Lim -> mel: what the vocoder alone costs) and
`griffin_lim_recon` (decoded mel -> Griffin-Lim -> mel, against the input mel: what a listener
gets). Mel L1 is in nats of log power; spectral convergence 0 is perfect, 1 is silence.
"""
from __future__ import annotations

import argparse
import json
import time

import torch

from seedkit.data import AVDataModule
from seedkit.tokenizers import AudioAutoencoder, VideoAutoencoder, mel_l1, psnr, spectral_convergence, ssim

CLIPS = {"bounce": dict(fps=16.0, num_frames=32, size=32), "grid": dict(fps=25.0, num_frames=72, size=64)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dataset", choices=sorted(CLIPS), default="grid")
    ap.add_argument("--video", default=None, help="video tokenizer checkpoint")
    ap.add_argument("--audio", default=None, help="audio tokenizer checkpoint")
    ap.add_argument("--n", type=int, default=64, help="val clips at most")
    ap.add_argument("--griffin-lim-clips", type=int, default=16, help="clips put through Griffin-Lim")
    args = ap.parse_args()
    dm = AVDataModule(dataset=args.dataset, batch_size=8, sample_rate=16000, **CLIPS[args.dataset])
    batches, seen = [], 0
    for b in dm.val_dataloader():
        batches.append(b)
        seen += len(b["id"])
        if seen >= args.n:
            break
    out: dict = {"dataset": args.dataset, "n_clips": seen}
    t0 = time.process_time()
    if args.video:
        vae = VideoAutoencoder.from_checkpoint(args.video)
        ps, ss = [], []
        with torch.no_grad():
            for b in batches:
                rec = vae.decode(vae.encode(b["video"])).clamp(-1, 1)
                ps.append(psnr(rec, b["video"]))
                ss.append(ssim(rec, b["video"]))
        out["video"] = {"checkpoint": args.video, "psnr_db": round(torch.cat(ps).mean().item(), 2),
                        "ssim": round(torch.cat(ss).mean().item(), 4)}
    if args.audio:
        aae = AudioAutoencoder.from_checkpoint(args.audio)
        audio = torch.cat([b["audio"] for b in batches])[: args.n]
        with torch.no_grad():
            mel = aae.mel(audio)
            rec = torch.cat([aae.decode(aae.encode(a)) for a in audio.split(16)])
            k = args.griffin_lim_clips
            gl_in = aae.mel(aae.mel_to_waveform(mel[:k]))
            gl_rec = aae.mel(aae.mel_to_waveform(rec[:k]))

        def row(x, ref):
            return {"mel_l1": round(mel_l1(x, ref).mean().item(), 3),
                    "spectral_convergence": round(spectral_convergence(x, ref).mean().item(), 3)}

        out["audio"] = {"checkpoint": args.audio, "n_fft": aae.config.n_fft,
                        "autoencoder": row(rec, mel), "griffin_lim_input": row(gl_in, mel[:k]),
                        "griffin_lim_recon": row(gl_rec, mel[:k]), "griffin_lim_clips": k}
    out["cpu_s"] = round(time.process_time() - t0, 1)
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
