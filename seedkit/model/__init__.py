"""The dual-tower diffusion transformer: towers, bridge, RoPE on a shared clock."""
from .attention import Attention, RMSNorm
from .bridge import BridgeAttention, attention_over_time
from .dual import DualOutput, DualTowerConfig, DualTowerDiT, bridge_layers, data_to_velocity, velocity_to_data
from .rope import apply_rope, rotation_similarity, token_times_s
from .towers import AudioTower, DiTBlock, VideoTower, patchify_video, unpatchify_video

__all__ = [
           "Attention",
           "AudioTower",
           "BridgeAttention",
           "DiTBlock",
           "DualOutput",
           "DualTowerConfig",
           "DualTowerDiT",
           "RMSNorm",
           "VideoTower",
           "apply_rope",
           "attention_over_time",
           "bridge_layers",
           "data_to_velocity",
           "patchify_video",
           "rotation_similarity",
           "token_times_s",
           "unpatchify_video",
           "velocity_to_data",
]
