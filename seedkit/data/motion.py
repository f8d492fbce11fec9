"""Motion supervision for the video tower (bounce): where each object is and how it moves, per
video token, as an auxiliary target (Track4Gen, Jeong et al. 2024: teaching a video diffusion
model to track points keeps its objects from drifting; REPA, Yu et al. 2024: a target for the
middle of the network speeds training up).

bounce knows every object's path exactly (`BounceGenerator.tracks`), so the target is computed,
not learnt. For each latent frame, each token cell of the video tower's grid and each of the
frames the latent frame covers, three numbers: how much object is there (a Gaussian bump around
each object centre, half a cell wide) and that amount times the object's velocity (x, y, in
arena widths per second):

    tracks [B, T, K, 2] (x, y in [0, 1], NaN = no such object)
      -> targets [B, T' * gh * gw, (T / T') * 3]     (the video tower's token order: frame, row, column)

`WithTracks` adds the tracks to the samples of a bounce split (media or cached latents alike).
"""
from __future__ import annotations

import torch
from torch.utils.data import Dataset

from .bounce import BounceGenerator

CHANNELS_PER_FRAME = 3  # occupancy, occupancy x vx, occupancy x vy


def motion_channels(frames: int, latent_frames: int) -> int:
    """Target channels per token: 3 for each video frame a latent frame covers."""
    if frames % latent_frames:
        raise ValueError(f"{frames} video frames do not split into {latent_frames} latent frames")
    return frames // latent_frames * CHANNELS_PER_FRAME


def track_velocity(tracks: torch.Tensor, fps: float) -> torch.Tensor:
    """tracks [B, T, K, 2] -> velocities [B, T, K, 2] in arena units per second: central differences
    inside the clip, one-sided at its ends (a bounce between two frames reads as a slowdown)."""
    if tracks.shape[1] < 2:
        return torch.zeros_like(tracks)
    d = torch.empty_like(tracks)
    d[:, 1:-1] = (tracks[:, 2:] - tracks[:, :-2]) / 2
    d[:, 0] = tracks[:, 1] - tracks[:, 0]
    d[:, -1] = tracks[:, -1] - tracks[:, -2]
    return d * fps


def motion_targets(tracks: torch.Tensor, latent_frames: int, grid: tuple[int, int], fps: float,
                   width_cells: float = 0.5) -> torch.Tensor:
    """tracks [B, T, K, 2] -> targets [B, latent_frames * gh * gw, (T / latent_frames) * 3].

    Frame f * r + s (r = T / latent_frames) fills channels 3 s .. 3 s + 2 of latent frame f's tokens:
    sum over objects of g, g vx, g vy, with g = exp(-d^2 / 2 sigma^2), d the distance from the
    token cell's centre to the object's centre and sigma `width_cells` cells.
    """
    b, t, k, _ = tracks.shape
    gh, gw = grid
    r = motion_channels(t, latent_frames) // CHANNELS_PER_FRAME
    present = torch.isfinite(tracks).all(-1)  # [B, T, K]
    pos = torch.nan_to_num(tracks)
    vel = torch.nan_to_num(track_velocity(tracks, fps))
    cy = (torch.arange(gh, dtype=pos.dtype, device=pos.device) + 0.5) / gh  # cell centres [gh]
    cx = (torch.arange(gw, dtype=pos.dtype, device=pos.device) + 0.5) / gw
    sigma = width_cells / max(gh, gw)
    dx = cx.view(1, 1, 1, 1, gw) - pos[..., 0].view(b, t, k, 1, 1)  # [B, T, K, 1, gw]
    dy = cy.view(1, 1, 1, gh, 1) - pos[..., 1].view(b, t, k, 1, 1)  # [B, T, K, gh, 1]
    g = torch.exp(-(dx ** 2 + dy ** 2) / (2 * sigma ** 2)) * present.view(b, t, k, 1, 1)  # [B, T, K, gh, gw]
    occ = g.sum(2)
    vx = (g * vel[..., 0].view(b, t, k, 1, 1)).sum(2)
    vy = (g * vel[..., 1].view(b, t, k, 1, 1)).sum(2)
    per_frame = torch.stack([occ, vx, vy], dim=-1)  # [B, T, gh, gw, 3]
    x = per_frame.view(b, latent_frames, r, gh, gw, CHANNELS_PER_FRAME).permute(0, 1, 3, 4, 2, 5)
    return x.reshape(b, latent_frames * gh * gw, r * CHANNELS_PER_FRAME)


class WithTracks(Dataset):
    """A bounce split (scenes start .., in order; media or `LatentClips`) whose samples also carry
    `tracks` float32 [T, max_objects, 2] from the scene generator."""

    def __init__(self, split: Dataset, generator: BounceGenerator, start: int):
        self.split, self.generator, self.start = split, generator, start

    def __len__(self) -> int:
        return len(self.split)

    def __getitem__(self, i: int) -> dict:
        sample, index = self.split[i], self.start + i
        want = f"bounce-{self.generator.config.seed}-{index}"
        if sample.get("id") != want:
            raise ValueError(f"motion targets: sample {i} of the split is {sample.get('id')!r}, expected "
                             f"{want!r} (a bounce split of scenes {self.start}.. in order)")
        return {**sample, "tracks": torch.from_numpy(self.generator.tracks(index))}
