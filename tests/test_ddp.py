"""Data-parallel training on 2 CPU processes (gloo) matches one process on the same global batch.

Each rank holds half of a global batch of 4 and runs the kit's training step (rectified-flow loss
on the dual-tower model, backward, AdamW) under DistributedDataParallel for a few steps. The
single-process reference sees the same 4 samples with the same noise (each half drawn from the
same seeded generator as its rank) and averages the two halves' losses, which is what DDP's
gradient all-reduce computes. Tolerance: losses within rtol 1e-4 (float32 summation order differs
between the all-reduce and the local sum), weights within atol 1e-5 after 3 AdamW steps; the two
ranks must hold bit-identical weights.
"""

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from seedkit.flow import FlowConfig, RectifiedFlow
from seedkit.model import DualTowerConfig, DualTowerDiT

WORLD, PER_RANK, STEPS = 2, 2, 3
# No clean/dropped conditions and no bridge-off batches: every sample contributes to both losses,
# so the mean of the two halves' losses is exactly the loss of the whole batch.
FLOW = FlowConfig(p_clean_audio=0.0, p_clean_video=0.0, p_drop_text=0.0)


def tiny_model() -> DualTowerDiT:
    cfg = DualTowerConfig.bounce(video_dim=32, video_heads=2, video_depth=2, audio_dim=16, audio_heads=2,
                                 audio_depth=2, text_dim=16, mlp_ratio=2.0)
    torch.manual_seed(0)
    model = DualTowerDiT(cfg)
    with torch.no_grad():  # wake the zero-initialised layers so that every weight moves
        for p in model.parameters():
            if torch.all(p == 0):
                p.normal_(0, 0.05)
    return model


def global_batch(cfg: DualTowerConfig):
    g = torch.Generator().manual_seed(1)
    b = WORLD * PER_RANK
    video = torch.randn(b, cfg.video_frames, cfg.video_channels, cfg.video_height, cfg.video_width, generator=g)
    audio = torch.randn(b, cfg.audio_length, cfg.audio_channels, generator=g)
    ids = torch.randint(0, cfg.vocab_size, (b, 4), generator=g)
    return video, audio, ids, torch.ones(b, 4, dtype=torch.bool)


def shard(batch, rank: int):
    return tuple(x[rank * PER_RANK:(rank + 1) * PER_RANK] for x in batch)


def noise(step: int, rank: int) -> torch.Generator:
    return torch.Generator().manual_seed(1000 * step + rank)


def optimizer(model):
    return torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)


def _rank_main(rank: int, init_file: str, out_dir: str) -> None:
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=WORLD)
    try:
        model = tiny_model()
        ddp = torch.nn.parallel.DistributedDataParallel(model)
        opt, flow = optimizer(ddp), RectifiedFlow(FLOW)
        data = shard(global_batch(model.config), rank)
        losses = []
        for step in range(STEPS):
            loss = flow.loss(ddp, *data, generator=noise(step, rank)).total
            loss.backward()  # DDP all-reduces (averages) the gradients here
            opt.step()
            opt.zero_grad(set_to_none=True)
            mean = loss.detach().clone()
            dist.all_reduce(mean)
            losses.append(mean.item() / WORLD)
        torch.save({"losses": losses, "state": model.state_dict()}, f"{out_dir}/rank{rank}.pt")
    finally:
        dist.destroy_process_group()


def single_process():
    torch.set_num_threads(1)
    model = tiny_model()
    opt, flow = optimizer(model), RectifiedFlow(FLOW)
    batch = global_batch(model.config)
    losses = []
    for step in range(STEPS):
        parts = [flow.loss(model, *shard(batch, r), generator=noise(step, r)).total for r in range(WORLD)]
        loss = sum(parts) / WORLD  # = the loss of the whole global batch (equal halves, plain means)
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        losses.append(loss.item())
    return losses, model.state_dict()


@pytest.mark.slow
@pytest.mark.timeout(120)
@pytest.mark.skipif(not dist.is_available() or not dist.is_gloo_available(), reason="needs gloo")
def test_two_process_ddp_matches_single_process_on_the_same_global_batch(tmp_path):
    # fork: the ranks inherit the imported modules (spawn would import torch twice more: +10-20 s)
    mp.start_processes(_rank_main, args=(str(tmp_path / "init"), str(tmp_path)), nprocs=WORLD, join=True,
                       start_method="fork")
    ranks = [torch.load(tmp_path / f"rank{r}.pt", weights_only=True) for r in range(WORLD)]
    for name, w in ranks[0]["state"].items():
        assert torch.equal(w, ranks[1]["state"][name]), f"ranks disagree on {name}"
    ref_losses, ref_state = single_process()
    assert ranks[0]["losses"] == pytest.approx(ref_losses, rel=1e-4)
    moved = 0
    for name, w in ranks[0]["state"].items():
        torch.testing.assert_close(w, ref_state[name], atol=1e-5, rtol=0, msg=lambda m: f"{name}: {m}")
        moved += not torch.equal(w, tiny_model().state_dict()[name])
    assert moved > 0.9 * len(ref_state)  # training really changed the weights being compared


def test_shards_partition_the_global_batch():
    batch = global_batch(DualTowerConfig.bounce())
    parts = [shard(batch, r) for r in range(WORLD)]
    for i, x in enumerate(batch):
        assert torch.equal(torch.cat([p[i] for p in parts]), x)
