"""Synchrony metrics computed without downloaded weights (DESIGN.md, "Measuring synchrony").

* `events`: bounce ground truth - visual impacts, audio onsets, one-to-one matching, F1 / offset.
* `av_align`: AV-Align (arXiv 2309.16429) to the authors' released definition.
* `offset`: audio-video lag by cross-correlating an audio onset signal with a video motion signal.
"""
from .av_align import AVAlignResult, av_align
from .offset import OffsetEstimate, estimate_offset
from .events import (EventScore, bounce_sync_report, detect_audio_onsets, detect_video_impacts,
                     event_sync_score, match_events, shift_audio)

__all__ = ["AVAlignResult", "av_align", "EventScore", "bounce_sync_report", "detect_audio_onsets", "detect_video_impacts",
           "event_sync_score", "match_events", "shift_audio", "OffsetEstimate", "estimate_offset"]
