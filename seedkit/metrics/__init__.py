"""Synchrony metrics computed without downloaded weights (DESIGN.md, "Measuring synchrony").

* `events`: bounce ground truth - visual impacts, audio onsets, one-to-one matching, F1 / offset.
"""
from .events import (EventScore, bounce_sync_report, detect_audio_onsets, detect_video_impacts,
                     event_sync_score, match_events, shift_audio)

__all__ = ["EventScore", "bounce_sync_report", "detect_audio_onsets", "detect_video_impacts",
           "event_sync_score", "match_events", "shift_audio"]
