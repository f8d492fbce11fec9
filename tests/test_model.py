"""Dual-tower DiT: shapes, independence of the towers, bridge switch, aligned RoPE."""
import pytest
import torch

from seedkit.model import (
    DualTowerConfig,
    DualTowerDiT,
    bridge_layers,
    rotation_similarity,
    token_times_s,
)
from seedkit.model.attention import RMSNorm, RMSNormFunction
from seedkit.model.dual import data_to_velocity, pool_text, precondition
from seedkit.model.rope import RopeTable, angles_1d, apply_rope


def tiny(**overrides) -> DualTowerConfig:
    """Bounce shapes with narrow, shallow towers so each test runs in a second."""
    base = {"video_dim": 32, "video_heads": 2, "video_depth": 2, "audio_dim": 24, "audio_heads": 2, "audio_depth": 2,
                "text_dim": 16, "mlp_ratio": 2.0}
    return DualTowerConfig.bounce(**{**base, **overrides})


def inputs(cfg: DualTowerConfig, batch: int = 2, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    video = torch.randn(batch, cfg.video_frames, cfg.video_channels, cfg.video_height, cfg.video_width, generator=g)
    audio = torch.randn(batch, cfg.audio_length, cfg.audio_channels, generator=g)
    t_video, t_audio = torch.rand(batch, generator=g), torch.rand(batch, generator=g)
    ids = torch.randint(2, cfg.vocab_size, (batch, 5), generator=g)
    mask = torch.ones(batch, 5, dtype=torch.bool)
    mask[0, 3:] = False
    return video, audio, t_video, t_audio, ids, mask


def wake_up(model: DualTowerDiT, open_gates: bool = False) -> DualTowerDiT:
    """Replace the zero initialisations (adaLN-Zero, output heads; gates if asked) by small random
    values, so that outputs depend on inputs and independence is a real property, not all zeros."""
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for name, p in model.named_parameters():
            is_gate = name.split(".")[-1].startswith("gate_")
            if (is_gate and open_gates) or (not is_gate and torch.all(p == 0)):
                p.copy_(torch.randn(p.shape, generator=g) * 0.1)
    return model


@pytest.mark.parametrize("preset", ["bounce", "grid"])
def test_output_shapes_match_latents(preset):
    cfg = getattr(DualTowerConfig, preset)(video_dim=32, video_heads=2, audio_dim=24, audio_heads=2,
                                            video_depth=2, audio_depth=2, text_dim=16)
    model = DualTowerDiT(cfg)
    video, audio, *rest = inputs(cfg)
    out = model(video, audio, *rest)
    assert out.video.shape == video.shape == (2, cfg.video_frames, cfg.video_channels, 8, 8)
    assert out.audio.shape == audio.shape == (2, cfg.audio_length, 16)
    assert out.attention == {}


def test_preset_shapes_follow_the_design():
    b, g = DualTowerConfig.bounce(), DualTowerConfig.grid()
    assert (b.video_frames, b.audio_length, b.video_latent_fps, b.duration_s) == (8, 50, 4.0, 2.0)
    assert (g.video_frames, g.audio_length, g.video_latent_fps, g.duration_s) == (18, 72, 6.25, 2.88)
    assert b.audio_dim < b.video_dim and g.audio_dim < g.video_dim  # asymmetric towers
    for c in (b, g):  # heads divide the widths into even head dims (RoPE rotates channel pairs)
        assert c.video_dim % c.video_heads == 0 and (c.video_dim // c.video_heads) % 2 == 0
        assert c.audio_dim % c.audio_heads == 0 and (c.audio_dim // c.audio_heads) % 2 == 0


def test_fresh_model_predicts_zero_velocity():
    cfg = tiny()
    out = DualTowerDiT(cfg)(*inputs(cfg))
    assert torch.all(out.video == 0) and torch.all(out.audio == 0)


def test_gates_at_zero_make_towers_independent():
    cfg = tiny()
    model = wake_up(DualTowerDiT(cfg))
    video, audio, tv, ta, ids, mask = inputs(cfg)
    video2, audio2, tv2, ta2, _, _ = inputs(cfg, seed=7)
    base = model(video, audio, tv, ta, ids, mask)
    other_audio = model(video, audio2, tv, ta2, ids, mask)
    other_video = model(video2, audio, tv2, ta, ids, mask)
    assert torch.equal(base.video, other_audio.video)
    assert torch.equal(base.audio, other_video.audio)
    assert not torch.equal(base.video, other_video.video)  # the inputs matter at all


def test_open_gates_let_each_tower_hear_the_other():
    cfg = tiny()
    model = wake_up(DualTowerDiT(cfg), open_gates=True)
    video, audio, tv, ta, ids, mask = inputs(cfg)
    _, audio2, _, _, _, _ = inputs(cfg, seed=7)
    assert not torch.equal(model(video, audio, tv, ta, ids, mask).video,
                           model(video, audio2, tv, ta, ids, mask).video)


def train_a_few_steps(model: DualTowerDiT, steps: int = 3) -> None:
    cfg = model.config
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2)
    for step in range(steps):
        video, audio, tv, ta, ids, mask = inputs(cfg, seed=100 + step)
        out = model(video, audio, tv, ta, ids, mask)
        loss = (out.video - video.flip(0)).pow(2).mean() + (out.audio - audio.flip(0)).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()


@pytest.mark.parametrize("placement, independent", [("none", True), ("all", False)])
def test_placement_none_stays_independent_after_training(placement, independent):
    cfg = tiny(bridge=placement)
    torch.manual_seed(0)
    model = DualTowerDiT(cfg)
    train_a_few_steps(model)
    video, audio, tv, ta, ids, mask = inputs(cfg)
    _, audio2, _, ta2, _, _ = inputs(cfg, seed=7)
    same = torch.equal(model(video, audio, tv, ta, ids, mask).video, model(video, audio2, tv, ta2, ids, mask).video)
    assert same == independent


def test_bridge_off_flag_equals_placement_none():
    model = wake_up(DualTowerDiT(tiny(bridge="all")), open_gates=True)
    plain = DualTowerDiT(tiny(bridge="none"))
    missing, unexpected = plain.load_state_dict(model.state_dict(), strict=False)
    assert not missing and all(k.startswith("bridges.") for k in unexpected)
    args = inputs(tiny())
    off, none = model(*args, bridge=False), plain(*args)
    assert torch.equal(off.video, none.video) and torch.equal(off.audio, none.audio)
    assert not torch.equal(model(*args).video, off.video)


def test_dropped_text_gives_finite_output():
    cfg = tiny()
    model = wake_up(DualTowerDiT(cfg))
    video, audio, tv, ta, ids, mask = inputs(cfg)
    out = model(video, audio, tv, ta, ids, torch.zeros_like(mask))
    assert torch.isfinite(out.video).all() and torch.isfinite(out.audio).all()


def test_captured_attention_maps_are_distributions_over_the_other_stream():
    cfg = tiny(bridge="every:2")
    model = DualTowerDiT(cfg)
    out = model(*inputs(cfg), capture_attention=True)
    n_v = cfg.video_frames * cfg.video_tokens_per_frame
    assert set(out.attention) == {"bridge0/audio_to_video", "bridge0/video_to_audio"}
    a2v, v2a = out.attention["bridge0/audio_to_video"], out.attention["bridge0/video_to_audio"]
    assert a2v.shape == (2, 2, n_v, cfg.audio_length) and v2a.shape == (2, 2, cfg.audio_length, n_v)
    torch.testing.assert_close(a2v.sum(-1), torch.ones(2, 2, n_v))


def test_capturing_attention_does_not_change_the_output():
    cfg = tiny()
    model = wake_up(DualTowerDiT(cfg), open_gates=True)
    args = inputs(cfg)
    torch.testing.assert_close(model(*args).video, model(*args, capture_attention=True).video)


@pytest.mark.parametrize("placement, slots", [("all", [0, 1, 2, 3]), ("none", []), ("first:2", [0, 1]),
                                              ("every:2", [0, 2]), ("every:3", [0, 3])])
def test_placement_strings_pick_bridge_slots(placement, slots):
    assert bridge_layers(placement, 4) == slots


@pytest.mark.parametrize("bad", ["some", "first:", "every:0", "first:x"])
def test_bad_placement_is_a_clear_error(bad):
    with pytest.raises(ValueError, match="first:N"):
        bridge_layers(bad, 4)


def test_token_times_share_a_frame_time():
    times = token_times_s(3, 4.0, tokens_per_step=2)  # the middle of each 0.25 s latent span
    assert times.tolist() == [0.125, 0.125, 0.375, 0.375, 0.625, 0.625]


def test_token_times_put_the_same_span_at_the_same_instant():
    # 8 video latents at 4/s and 50 audio latents at 25/s over 2 s: both clocks end where they start
    video, audio = token_times_s(8, 4.0), token_times_s(50, 25.0)
    assert video[0] - 0.125 == audio[0] - 0.02 == 0.0
    assert abs((video[-1] + 0.125) - (audio[-1] + 0.02)) < 1e-6


@pytest.mark.parametrize("preset", ["bounce", "grid"])
def test_aligned_rope_similarity_peaks_at_the_same_instant(preset):
    cfg = getattr(DualTowerConfig, preset)()
    model = DualTowerDiT(cfg)
    pos_v, pos_a = model.bridge_positions(cfg.video_frames, cfg.audio_length)
    time_v = token_times_s(cfg.video_frames, cfg.video_latent_fps, cfg.video_tokens_per_frame)
    time_a = token_times_s(cfg.audio_length, cfg.audio_latent_rate)
    head_dim = cfg.video_dim // cfg.video_heads
    sim = rotation_similarity(pos_v, pos_a, head_dim)  # [Nv, Na]
    gap = (time_v[:, None] - time_a[None]).abs()  # [Nv, Na] seconds between tokens
    nearest_gap = gap.min(dim=1).values
    # the peak is an audio latent of the same instant (a grid frame midway between two latents: a tie)
    peak_gap = gap.gather(1, sim.argmax(dim=1, keepdim=True))[:, 0]
    torch.testing.assert_close(peak_gap, nearest_gap, atol=1e-6, rtol=0)
    assert nearest_gap.max() <= 0.5 / cfg.audio_latent_rate + 1e-6
    # index positions (the ablation) put the peak elsewhere for every frame after the first
    plain = DualTowerDiT(getattr(DualTowerConfig, preset)(aligned_rope=False))
    sim_index = rotation_similarity(*plain.bridge_positions(cfg.video_frames, cfg.audio_length), head_dim)
    peak_gap_index = gap.gather(1, sim_index.argmax(dim=1, keepdim=True))[:, 0]
    later = time_v > time_v.min()
    assert (peak_gap_index[later] > nearest_gap[later] + 0.1).all()


def test_rope_table_rotates_exactly_like_its_angles():
    angles = angles_1d(torch.arange(7.0) * 0.37, 8)
    x = torch.randn(2, 3, 7, 8)
    assert torch.equal(apply_rope(x, RopeTable.from_angles(angles)), apply_rope(x, angles))


def per_layer_rope_forward(model: DualTowerDiT, video, audio, t_video, t_audio, ids, mask):
    """DualTowerDiT.forward as it was before the shared RoPE tables: raw angles into every block,
    and every bridge slot building its own tables from the positions."""
    text, text_mask = model.encode_text(ids, mask)
    v, a = model.video.tokens(video), model.audio.tokens(audio)
    cv, ca = model.video.time_embed(t_video), model.audio.time_embed(t_audio)
    angles_v, angles_a = model.video.rope_angles(video), model.audio.rope_angles(audio)
    pos_v, pos_a = model.bridge_positions(video.shape[1], audio.shape[1])
    vi = ai = 0
    for slot in range(model.num_slots):
        for block in model.video.blocks[vi:model.video_ends[slot]]:
            v = block(v, cv, text, text_mask, angles_v)
        for block in model.audio.blocks[ai:model.audio_ends[slot]]:
            a = block(a, ca, text, text_mask, angles_a)
        vi, ai = model.video_ends[slot], model.audio_ends[slot]
        if str(slot) in model.bridges:
            v, a, _ = model.bridges[str(slot)](v, a, pos_v, pos_a)
    return model.video.output(v, cv, video), model.audio.output(a, ca, audio)


@pytest.mark.parametrize("audio_heads", [2, 3])  # audio head dim 12 (!= video's 16), or 8 (== 8)
@pytest.mark.parametrize("attention", ["sdpa", "math"])
def test_rope_tables_built_once_per_forward_equal_per_layer_angles(audio_heads, attention):
    cfg = tiny(video_heads=4 if audio_heads == 3 else 2, audio_heads=audio_heads, attention=attention)
    model = wake_up(DualTowerDiT(cfg), open_gates=True)
    x = inputs(cfg)
    out = model(*x)
    video, audio = per_layer_rope_forward(model, *x)
    assert torch.equal(out.video, video) and torch.equal(out.audio, audio)


def test_rms_norm_hand_written_backward_is_the_gradient():
    x = torch.randn(2, 3, 5, 8, dtype=torch.float64, requires_grad=True)
    weight = (torch.rand(8, dtype=torch.float64) + 0.5).requires_grad_()
    assert torch.autograd.gradcheck(lambda a, w: RMSNormFunction.apply(a, w, 1e-6), (x, weight), atol=1e-7, rtol=1e-5)


def test_rms_norm_fused_matches_the_formula_through_autograd():
    fused, formula = RMSNorm(16), RMSNorm(16)
    formula.fused = False
    with torch.no_grad():
        fused.weight.uniform_(0.5, 1.5)
        formula.weight.copy_(fused.weight)
    x = torch.randn(2, 7, 4, 16).transpose(1, 2)  # [B, heads, N, head_dim], strided like q and k
    grad = torch.randn(2, 4, 7, 16)
    outs = []
    for norm in (fused, formula):
        xi = x.detach().requires_grad_()
        y = norm(xi)
        y.backward(grad)
        outs.append((y, xi.grad, norm.weight.grad))
    for a, b in zip(*outs):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)


def test_unknown_config_option_is_named():
    with pytest.raises(ValueError, match="video_widht"):
        DualTowerConfig.from_dict({"preset": "bounce", "video_widht": 3}, source="model.yaml")


# -- video grid convolution (CPVT's positional encoding generator) ----------------------------


def test_grid_conv_is_the_depthwise_3d_convolution_of_the_token_grid():
    from seedkit.model.towers import GridConv

    torch.manual_seed(0)
    gc = GridConv(8, 3)
    grid = (3, 2, 4)
    x = torch.randn(2, 3 * 2 * 4, 8)
    on_grid = x.transpose(1, 2).reshape(2, 8, *grid)  # [B, D, T', H', W'], a plain contiguous copy
    ref = on_grid + torch.nn.functional.conv3d(on_grid, gc.conv.weight, gc.conv.bias, padding=1, groups=8)
    torch.testing.assert_close(gc(x, grid), ref.reshape(2, 8, 24).transpose(1, 2))


@pytest.mark.parametrize("kernel", [3, 5])
def test_grid_conv_written_out_backward_matches_autograd(kernel):
    """DepthwiseConv3dFunction's gradients (input, weight, bias) equal autograd's through F.conv3d."""
    from seedkit.model.towers import DepthwiseConv3dFunction

    torch.manual_seed(0)
    x = torch.randn(3, 5, 4, 3, 6, dtype=torch.float64, requires_grad=True)
    w = torch.randn(5, 1, kernel, kernel, kernel, dtype=torch.float64, requires_grad=True)
    b = torch.randn(5, dtype=torch.float64, requires_grad=True)
    g = torch.randn(3, 5, 4, 3, 6, dtype=torch.float64)
    ref = torch.autograd.grad(torch.nn.functional.conv3d(x, w, b, padding=kernel // 2, groups=5), (x, w, b), g)
    y = DepthwiseConv3dFunction.apply(x, w, b)
    torch.testing.assert_close(y, torch.nn.functional.conv3d(x, w, b, padding=kernel // 2, groups=5))
    for got, want in zip(torch.autograd.grad(y, (x, w, b), g), ref):
        torch.testing.assert_close(got, want)
    assert torch.autograd.gradcheck(DepthwiseConv3dFunction.apply, (x[:1, :2, :3, :2, :3].detach().requires_grad_(),
                                                                     w[:2].detach().requires_grad_(),
                                                                     b[:2].detach().requires_grad_()))


def test_grid_conv_gradients_match_the_module_convolution():
    """Through GridConv (tokens, permuted channels-last views) the gradients are nn.Conv3d's."""
    from seedkit.model.towers import GridConv

    torch.manual_seed(0)
    gc = GridConv(8, 3)
    grid = (3, 2, 4)
    x = torch.randn(2, 24, 8, requires_grad=True)
    gc(x, grid).pow(2).sum().backward()
    got = (x.grad.clone(), gc.conv.weight.grad.clone(), gc.conv.bias.grad.clone())
    x.grad = None
    gc.zero_grad()
    on_grid = x.reshape(2, *grid, 8).permute(0, 4, 1, 2, 3)
    y = x + gc.conv(on_grid).permute(0, 2, 3, 4, 1).reshape(2, 24, 8)
    y.pow(2).sum().backward()
    for a, want in zip(got, (x.grad, gc.conv.weight.grad, gc.conv.bias.grad)):
        torch.testing.assert_close(a, want)


def test_grid_conv_reaches_only_the_neighbouring_tokens():
    from seedkit.model.towers import GridConv

    torch.manual_seed(0)
    gc = GridConv(8, 3)
    grid = (5, 4, 4)
    x = torch.randn(1, 5 * 4 * 4, 8)
    y = x.clone()
    y[0, (2 * 4 + 1) * 4 + 1] += 1.0  # the token at frame 2, row 1, column 1
    changed = (gc(x, grid) - gc(y, grid)).abs().sum(-1).reshape(grid) > 0
    expected = torch.zeros(grid, dtype=torch.bool)
    expected[1:4, 0:3, 0:3] = True
    assert torch.equal(changed, expected)


def test_grid_conv_model_keeps_shapes_zero_start_and_tower_independence():
    cfg = tiny(video_grid_conv=3)
    assert torch.all(DualTowerDiT(cfg)(*inputs(cfg)).video == 0)
    model = wake_up(DualTowerDiT(cfg))
    video, audio, tv, ta, ids, mask = inputs(cfg)
    _, audio2, _, ta2, _, _ = inputs(cfg, seed=7)
    out = model(video, audio, tv, ta, ids, mask)
    assert out.video.shape == video.shape and out.audio.shape == audio.shape
    assert torch.equal(out.video, model(video, audio2, tv, ta2, ids, mask).video)  # gates closed
    assert sum(".grid_conv." in n for n, _ in model.named_parameters()) == 2 * cfg.video_depth  # weight, bias


@pytest.mark.parametrize("kernel", [2, -1])
def test_grid_conv_kernel_must_be_odd(kernel):
    with pytest.raises(ValueError, match="odd"):
        DualTowerDiT(tiny(video_grid_conv=kernel))


def test_rope_only_video_tower_cannot_tell_where_a_token_is_absolute_positions_can():
    """A picture that is the same everywhere gets the same velocity everywhere from a RoPE-only
    tower (attention sees only relative positions); with `video_abs_pos` it no longer does."""
    for abs_pos, differs in ((False, False), (True, True)):
        cfg = tiny(video_abs_pos=abs_pos, video_patch=1)
        model = wake_up(DualTowerDiT(cfg))
        video, audio, tv, ta, ids, mask = inputs(cfg)
        flat = video[:, :1, :, :1, :1].expand_as(video).contiguous()  # one latent vector everywhere
        out = model(flat, audio, tv, ta, ids, mask).video
        spread = (out - out[:, :, :, :1, :1]).abs().amax().item()  # within each frame, across space
        assert (spread > 1e-3) == differs, (abs_pos, spread)


def test_video_abs_pos_tables_cover_the_grid_and_name_a_misfit():
    cfg = tiny(video_abs_pos=True)
    model = DualTowerDiT(cfg)
    pos = model.video.abs_pos
    assert pos.grid == (cfg.video_frames, cfg.video_height // cfg.video_patch, cfg.video_width // cfg.video_patch)
    video, audio, tv, ta, ids, mask = inputs(cfg)
    assert model(video[:, :4], audio, tv, ta, ids, mask).video.shape == video[:, :4].shape  # a shorter clip fits
    with pytest.raises(ValueError, match="position tables"):
        model.video.tokens(torch.randn(1, cfg.video_frames, cfg.video_channels, 4, 4))
    assert "video.abs_pos.frame" in dict(model.named_parameters())


# -- bf16 autocast on a CPU ------------------------------------------------------------------


def test_cpu_autocast_keeps_attention_and_grid_conv_in_fp32(monkeypatch):
    """Under CPU bf16 autocast the projections run in bf16 but the fused attention and the grid
    conv get float32 inputs (their bf16 backward kernels are the slow ones on a CPU); the output
    stays close to the float32 model's and gradients reach every parameter."""
    import seedkit.model.attention as attention

    seen = []
    sdpa = torch.nn.functional.scaled_dot_product_attention
    monkeypatch.setattr(attention.F, "scaled_dot_product_attention",
                        lambda q, k, v, **kw: seen.append((q.dtype, k.dtype, v.dtype)) or sdpa(q, k, v, **kw))
    cfg = tiny(video_grid_conv=3)
    model = wake_up(DualTowerDiT(cfg), open_gates=True)
    conv_dtypes = []
    conv3d = torch.nn.functional.conv3d
    monkeypatch.setattr(torch.nn.functional, "conv3d", lambda x, w, *a, **kw: conv_dtypes.append(
        (x.dtype, w.dtype)) or conv3d(x, w, *a, **kw))
    x = inputs(cfg)
    ref = model(*x)
    seen.clear()
    conv_dtypes.clear()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = model(*x)
        assert model.video.blocks[0].attn.to_q(torch.randn(2, cfg.video_dim)).dtype == torch.bfloat16
    assert seen and all(d == (torch.float32,) * 3 for d in seen)
    assert conv_dtypes and all(d == (torch.float32, torch.float32) for d in conv_dtypes)
    for got, want in ((out.video, ref.video), (out.audio, ref.audio)):
        assert (got.float() - want).abs().max() < 0.05 * want.abs().max()
    (out.video.float().square().mean() + out.audio.float().square().mean()).backward()
    assert all(p.grad is not None for p in model.parameters() if p.requires_grad)


def test_fused_attention_upcasts_half_inputs_on_cpu_only():
    from seedkit.model.attention import fused_attention

    g = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(2, 2, 6, 8, generator=g).bfloat16() for _ in range(3))
    out = fused_attention(q, k, v)
    want = torch.nn.functional.scaled_dot_product_attention(q.float(), k.float(), v.float())
    assert out.dtype == torch.bfloat16 and torch.equal(out, want.bfloat16())
    qf, kf, vf = q.float(), k.float(), v.float()
    assert torch.equal(fused_attention(qf, kf, vf), torch.nn.functional.scaled_dot_product_attention(qf, kf, vf))


def test_a_timestep_per_frame_equal_to_the_samples_timestep_gives_the_same_velocity():
    cfg = tiny(video_grid_conv=3)
    model = wake_up(DualTowerDiT(cfg), open_gates=True)
    video, audio, tv, ta, ids, mask = inputs(cfg)
    base = model(video, audio, tv, ta, ids, mask)
    per_frame = model(video, audio, tv[:, None].expand(-1, cfg.video_frames),
                      ta[:, None].expand(-1, cfg.audio_length), ids, mask)
    torch.testing.assert_close(per_frame.video, base.video)
    torch.testing.assert_close(per_frame.audio, base.audio)


def test_a_frames_timestep_conditions_that_frames_tokens():
    cfg = tiny()
    model = wake_up(DualTowerDiT(cfg))  # gates closed: the audio level cannot reach the video
    video, audio, tv, ta, ids, mask = inputs(cfg)
    t_video = tv[:, None].repeat(1, cfg.video_frames)
    moved = t_video.clone()
    moved[:, -1] = 0.9
    a, b = model(video, audio, t_video, ta, ids, mask), model(video, audio, moved, ta, ids, mask)
    assert not torch.equal(a.video[:, -1], b.video[:, -1])
    assert torch.equal(a.audio, b.audio)
    with pytest.raises(ValueError, match="t_video has 3 timesteps"):
        model(video, audio, t_video[:, :3], ta, ids, mask)


def test_data_to_velocity_is_the_path_velocity_per_sample_and_per_frame():
    g = torch.Generator().manual_seed(3)
    x0, eps = torch.randn(3, 8, 16, 8, 8, generator=g), torch.randn(3, 8, 16, 8, 8, generator=g)
    for t in (torch.tensor([0.05, 0.5, 1.0]), torch.rand(3, 8, generator=g) * 0.9 + 0.1):
        tb = t.reshape(*t.shape, *([1] * (x0.dim() - t.dim())))
        x_t = (1 - tb) * x0 + tb * eps
        torch.testing.assert_close(data_to_velocity(x_t, x0, t, 0.05), eps - x0, atol=1e-5, rtol=1e-5)
    # below t_min the division stops at t_min: bounded, not the exact velocity
    x_t = 0.99 * x0 + 0.01 * eps
    torch.testing.assert_close(data_to_velocity(x_t, x0, torch.full((3,), 0.01), 0.05), 0.01 * (eps - x0) / 0.05)


@pytest.mark.parametrize("per_frame", [False, True])
def test_data_prediction_returns_the_velocity_of_the_predicted_clean_latents(per_frame):
    """The same weights with prediction "data": the heads' raw output is read as x0, so the
    returned velocity is (x_t - head) / t, where the velocity model returns the head itself."""
    velocity = wake_up(DualTowerDiT(tiny()))
    data = DualTowerDiT(tiny(prediction="data"))
    data.load_state_dict(velocity.state_dict())
    video, audio, t_video, t_audio, ids, mask = inputs(velocity.config)
    if per_frame:
        t_video, t_audio = torch.rand(2, video.shape[1]) + 0.1, torch.rand(2, audio.shape[1]) + 0.1
    head, out = velocity(video, audio, t_video, t_audio, ids, mask), data(video, audio, t_video, t_audio, ids, mask)
    torch.testing.assert_close(out.video, data_to_velocity(video, head.video, t_video, 0.05))
    torch.testing.assert_close(out.audio, data_to_velocity(audio, head.audio, t_audio, 0.05))


def test_unknown_prediction_is_a_clear_error():
    with pytest.raises(ValueError, match="prediction must be 'velocity', 'data' or 'preconditioned'"):
        DualTowerDiT(tiny(prediction="eps"))


def test_a_fresh_self_conditioning_model_equals_the_plain_one_and_then_reads_the_estimate():
    plain = wake_up(DualTowerDiT(tiny()))
    sc = DualTowerDiT(tiny(self_condition=True))
    missing, unexpected = sc.load_state_dict(plain.state_dict(), strict=False)
    assert sorted(missing) == ["audio_self_cond.weight", "video_self_cond.weight"] and not unexpected
    video, audio, *rest = inputs(plain.config)
    cond = {"video_cond": torch.randn_like(video), "audio_cond": torch.randn_like(audio)}
    base = plain(video, audio, *rest)
    for out in (sc(video, audio, *rest), sc(video, audio, *rest, **cond)):  # zero projections: no effect yet
        torch.testing.assert_close(out.video, base.video)
        torch.testing.assert_close(out.audio, base.audio)
    wake_up(sc)  # the projections now carry weights
    with_cond, without = sc(video, audio, *rest, **cond), sc(video, audio, *rest)
    assert not torch.allclose(with_cond.video, without.video) and not torch.allclose(with_cond.audio, without.audio)
    zeros = sc(video, audio, *rest, video_cond=torch.zeros_like(video), audio_cond=torch.zeros_like(audio))
    torch.testing.assert_close(zeros.video, without.video)  # no estimate reads as zeros
    with pytest.raises(ValueError, match="self_condition=True"):
        plain(video, audio, *rest, **cond)


@pytest.mark.parametrize("per_frame", [False, True])
def test_a_fresh_pooled_text_model_equals_the_plain_one_and_then_reads_the_caption(per_frame):
    plain = wake_up(DualTowerDiT(tiny()))
    pooled = DualTowerDiT(tiny(pooled_text=True))
    missing, unexpected = pooled.load_state_dict(plain.state_dict(), strict=False)
    assert {k.split(".")[0] for k in missing} == {"video_text_pool", "audio_text_pool"} and not unexpected
    video, audio, t_video, t_audio, ids, mask = inputs(plain.config)
    if per_frame:  # a timestep per latent frame / audio latent (the clock ramp)
        t_video, t_audio = torch.rand(2, video.shape[1]), torch.rand(2, audio.shape[1])
    base, out = plain(video, audio, t_video, t_audio, ids, mask), pooled(video, audio, t_video, t_audio, ids, mask)
    torch.testing.assert_close(out.video, base.video)  # the zero last layer adds nothing yet
    torch.testing.assert_close(out.audio, base.audio)
    wake_up(pooled)  # the pooled-text MLPs now carry weights; every other weight is still plain's
    other = ids.flip(0)  # the other sample's caption
    # what the pooled path adds (pooled minus plain, which reads the caption by cross-attention
    # alone) depends on the caption
    added = [pooled(video, audio, t_video, t_audio, c, mask).video - plain(video, audio, t_video, t_audio, c, mask).video
             for c in (ids, other)]
    assert added[0].abs().max() > 1e-4 and not torch.allclose(added[0], added[1])
    dropped = pooled(video, audio, t_video, t_audio, ids, torch.zeros_like(mask))  # CFG: only the null token
    assert torch.isfinite(dropped.video).all() and torch.isfinite(dropped.audio).all()


def test_pool_text_averages_the_kept_tokens_only():
    text = torch.tensor([[[1.0, 2.0], [3.0, 4.0], [100.0, 100.0]]])
    mask = torch.tensor([[True, True, False]])
    torch.testing.assert_close(pool_text(text, mask), torch.tensor([[2.0, 3.0]]))


@pytest.mark.parametrize("sigma", [1.0, 0.6])
def test_preconditioning_factors_are_the_least_squares_fit_of_the_velocity(sigma):
    g = torch.Generator().manual_seed(0)
    x0, eps = torch.randn(400_000, generator=g) * sigma, torch.randn(400_000, generator=g)
    for t in (0.0, 0.3, 0.7, 0.98, 1.0):
        x_t, v = (1 - t) * x0 + t * eps, eps - x0
        c_in, c_skip, c_out = precondition(torch.tensor(t), sigma)
        assert abs(float(c_skip) - float((v * x_t).mean() / (x_t * x_t).mean())) < 0.01
        assert abs(float(c_out) - float((v - c_skip * x_t).std())) < 0.01  # the network's target: unit variance
        assert abs(float((c_in * x_t).std()) - 1.0) < 0.01


@pytest.mark.parametrize("per_frame", [False, True])
def test_preconditioned_model_reads_scaled_input_and_adds_the_skip(per_frame):
    """The same weights with prediction "preconditioned": the towers see c_in x_t and the velocity is
    c_skip x_t + c_out (what the velocity model returns for the scaled input)."""
    velocity = wake_up(DualTowerDiT(tiny()))
    pre = DualTowerDiT(tiny(prediction="preconditioned"))
    pre.load_state_dict(velocity.state_dict())
    video, audio, t_video, t_audio, ids, mask = inputs(velocity.config)
    if per_frame:
        t_video, t_audio = torch.rand(2, video.shape[1]), torch.rand(2, audio.shape[1])
    (in_v, skip_v, out_v), (in_a, skip_a, out_a) = (
        precondition(t.reshape(*t.shape, *[1] * (x.dim() - t.dim())), 1.0)
        for t, x in ((t_video, video), (t_audio, audio)))
    f = velocity(video * in_v, audio * in_a, t_video, t_audio, ids, mask)
    out = pre(video, audio, t_video, t_audio, ids, mask)
    torch.testing.assert_close(out.video, skip_v * video + out_v * f.video)
    torch.testing.assert_close(out.audio, skip_a * audio + out_a * f.audio)


def test_a_fresh_preconditioned_model_estimates_no_clean_latents_from_pure_noise():
    """At t = 1 (and zero-initialised heads) x0 = x_t - v is 0 whatever the noise: the velocity model
    instead returns v = 0 there, taking the noise itself for the clean latents."""
    video, audio, _, _, ids, mask = inputs(tiny())
    one = torch.ones(2)
    for prediction, x0_is_zero in (("preconditioned", True), ("velocity", False)):
        out = DualTowerDiT(tiny(prediction=prediction))(video, audio, one, one, ids, mask)
        assert torch.allclose(video - out.video, torch.zeros_like(video), atol=1e-6) == x0_is_zero
