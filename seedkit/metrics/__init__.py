"""Synchrony metrics computed without downloaded weights (DESIGN.md, "Measuring synchrony").

* `events`: bounce ground truth - visual impacts, audio onsets, one-to-one matching, F1 / offset.
* `av_align`: AV-Align (arXiv 2309.16429) to the authors' released definition.
* `offset`: audio-video lag by cross-correlating an audio onset signal with a video motion signal.
* `mouth`: weight-free lip-sync offset (lip motion in the located lip box vs speech energy).
* `syncnet`: SyncNet-lite, a learned lip-sync embedding (LSE-D / LSE-C / offset / sync@0);
  `syncnet_lit`: its LightningModule and GRID DataModule (`seedkit fit --config .../syncnet_grid.yaml`).
* `seams`: do generated videos change more at latent-frame seams than inside (temporal coherence)?
* `frechet`: FD-kitvideo / FD-kitaudio on the kit's own tokenizer features (not FVD / FAD).
(`syncnet`, `syncnet_lit` and `frechet` need torch: import them from their modules.)
"""
from .av_align import AVAlignResult, av_align
from .offset import OffsetEstimate, estimate_offset
from .mouth import estimate_mouth_offset
from .seams import SeamReport, seam_report
from .events import (EventScore, bounce_sync_report, detect_audio_onsets, detect_video_impacts,
                     event_sync_score, match_events, shift_audio)

__all__ = ["AVAlignResult", "av_align", "EventScore", "bounce_sync_report", "detect_audio_onsets", "detect_video_impacts",
           "event_sync_score", "match_events", "shift_audio", "OffsetEstimate", "estimate_offset",
           "estimate_mouth_offset", "SeamReport", "seam_report"]
