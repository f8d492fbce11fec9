"""Datasets: the built-in procedural `bounce` and the GRID corpus, one batch format."""
from .bounce import BounceConfig, BounceDataset, BounceGenerator
from .clip import BOUNCE_SPEC, GRID_SPEC, ClipSpec, frames_to_video, video_to_frames
from .datamodule import AVDataModule, fast_mode
from .text import UnknownWordError, WordVocab

__all__ = [
    "AVDataModule", "BOUNCE_SPEC", "BounceConfig", "BounceDataset", "BounceGenerator", "ClipSpec",
    "GRID_SPEC", "UnknownWordError", "WordVocab", "fast_mode", "frames_to_video", "video_to_frames",
]
