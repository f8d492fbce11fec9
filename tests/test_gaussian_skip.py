"""The Gaussian skip: the exact flow of a Gaussian fit of the latents (`seedkit.model.gaussian`),
added to the dual-tower model's velocities (`DualTowerConfig.gaussian_skip`)."""
import pytest
import torch

from seedkit.model import DualTowerDiT
from seedkit.model.gaussian import GaussianFlow
from seedkit.noise import correlate_frames, whiten_frames
from tests.test_model import inputs, tiny, wake_up


def noise_covariance(frames: int, per_frame: int, rho: float) -> torch.Tensor:
    idx = torch.arange(frames, dtype=torch.float64)
    return torch.kron(rho ** (idx[:, None] - idx[None]).abs(), torch.eye(per_frame, dtype=torch.float64))


def posterior_velocity(x_t, mean, cov, noise_cov, t: float) -> torch.Tensor:
    """E[eps - x0 | x_t] for x0 ~ N(mean, cov), eps ~ N(0, noise_cov), with dense matrices: the
    posterior mean x0_hat = mean + s cov (s^2 cov + t^2 R)^-1 (x_t - s mean), v = (x_t - x0_hat) / t."""
    s = 1 - t
    x = x_t.flatten(1).double()
    x0 = mean + (s * cov @ torch.linalg.solve(s * s * cov + t * t * noise_cov, (x - s * mean).T)).T
    return ((x - x0) / t).reshape(x_t.shape)


def test_whitening_inverts_the_correlated_noise():
    y = torch.randn(3, 6, 2, 2)
    assert torch.allclose(whiten_frames(correlate_frames(y, 0.9), 0.9), y, atol=1e-6)
    assert whiten_frames(y, 0.0) is y


@pytest.mark.parametrize("rank", [12, 5])  # full rank (exact eigendecomposition) and low rank + isotropic rest
def test_velocity_is_the_posterior_of_the_fitted_gaussian(rank):
    frames, per_frame, rho = 4, 3, 0.7
    g = torch.Generator().manual_seed(0)
    a = torch.randn(12, 12, generator=g, dtype=torch.float64) * 0.5
    data = (torch.randn(500, 12, generator=g, dtype=torch.float64) @ a.T + 2.0).reshape(500, frames, per_frame)
    flow = GaussianFlow((frames, per_frame), rank).fit(data, rho)
    # the Gaussian it stands for, in data coordinates: the whitened fit coloured back
    # the frame whitening is the inverse of the noise covariance's Cholesky factor
    w = torch.linalg.inv(torch.linalg.cholesky(noise_covariance(frames, 1, rho))).contiguous()
    w = torch.kron(w, torch.eye(per_frame, dtype=torch.float64))
    y = (data.flatten(1) @ w.T)
    y_cov = torch.cov(y.T)
    evals, evecs = torch.linalg.eigh(y_cov)
    top, rest = evecs[:, -rank:], (evals[:-rank].mean() if rank < 12 else 0.0)
    y_cov = top @ torch.diag(evals[-rank:]) @ top.T + rest * (torch.eye(12, dtype=torch.float64) - top @ top.T)
    w_inv = torch.linalg.inv(w)
    cov, mean = w_inv @ y_cov @ w_inv.T, data.flatten(1).mean(0)
    x_t = torch.randn(6, frames, per_frame, generator=g, dtype=torch.float64) * 2
    for t in (0.05, 0.5, 0.9, 0.99):
        want = posterior_velocity(x_t, mean, cov, noise_covariance(frames, per_frame, rho), t)
        got = flow(x_t.float(), torch.full((6,), t)).double()
        assert torch.allclose(got, want, atol=2e-4 * want.abs().max()), t
    # the ends of the path: pure noise points at eps - E[x0], clean data at -x0
    assert torch.allclose(flow(x_t.float(), torch.ones(6)).double(), x_t - mean.reshape(frames, per_frame), atol=1e-4)
    assert torch.allclose(flow(x_t.float(), torch.zeros(6)).double(), -x_t, atol=1e-4)


def test_fit_refuses_bad_input_and_unfitted_is_zero():
    flow = GaussianFlow((2, 3), 4)
    x = torch.randn(5, 2, 3)
    assert torch.equal(flow(x, torch.rand(5)), torch.zeros_like(x))
    with pytest.raises(ValueError, match=r"latents of shape \(3, 2\), expected \(2, 3\)"):
        flow.fit(torch.randn(5, 3, 2))
    with pytest.raises(ValueError, match="at least 2"):
        flow.fit(torch.randn(1, 2, 3))
    with pytest.raises(ValueError, match="rho=1.0"):
        flow.fit(x, 1.0)
    with pytest.raises(ValueError, match=r"rank must be in \[1, 6\]"):
        GaussianFlow((2, 3), 7)
    flow.fit(x)
    with pytest.raises(ValueError, match="per-frame timesteps"):
        flow(x, torch.rand(5, 2))


def test_a_directionless_fit_stays_finite_at_t_zero():
    """Fewer clips than dimensions leave directions of zero variance: a floor keeps 0 / 0 out."""
    flow = GaussianFlow((2, 3), 6).fit(torch.randn(3, 2, 3))  # 2 directions of variance, 4 completed
    assert torch.allclose(flow.basis.T @ flow.basis, torch.eye(6), atol=1e-5)
    assert (flow.eig[2:] == flow.eig[-1]).all() and flow.eig[1] > 100 * flow.eig[-1]
    x = torch.randn(4, 2, 3)
    v = flow(x, torch.tensor([0.0, 0.3, 0.7, 1.0]))
    assert torch.isfinite(v).all() and torch.allclose(v[0], -x[0], atol=1e-5)


def test_the_model_adds_the_gaussian_velocity_to_its_towers():
    cfg = tiny(gaussian_skip=8)
    model = DualTowerDiT(cfg).eval()
    video, audio, t_video, t_audio, ids, mask = inputs(cfg)
    assert model.video_gaussian.basis.shape == (cfg.video_frames * cfg.video_channels * 64, 8)
    with torch.no_grad():
        model.video_gaussian.fit(torch.randn(10, *video.shape[1:]), 0.9)
        model.audio_gaussian.fit(torch.randn(10, *audio.shape[1:]))
        # a fresh model's towers return zeros (adaLN-Zero): it is the Gaussian flow itself
        out = model(video, audio, t_video, t_audio, ids, mask)
        assert torch.allclose(out.video, model.video_gaussian(video, t_video))
        assert torch.allclose(out.audio, model.audio_gaussian(audio, t_audio))
        wake_up(model)
        plain = DualTowerDiT(tiny()).eval()
        plain.load_state_dict({k: v for k, v in model.state_dict().items() if "gaussian" not in k})
        out, towers = model(video, audio, t_video, t_audio, ids, mask), plain(video, audio, t_video, t_audio, ids, mask)
        assert torch.allclose(out.video, towers.video + model.video_gaussian(video, t_video), atol=1e-6)
        assert torch.allclose(out.audio, towers.audio + model.audio_gaussian(audio, t_audio), atol=1e-6)
    # the fit travels in the state dict
    again = DualTowerDiT(cfg)
    again.load_state_dict(model.state_dict())
    assert bool(again.video_gaussian.fitted) and float(again.video_gaussian.rho) == pytest.approx(0.9)
    with torch.no_grad():  # the loaded model returns what the fitted one does (its Python copies refreshed)
        assert torch.equal(again.video_gaussian(video, t_video), model.video_gaussian(video, t_video))
    with pytest.raises(ValueError, match="gaussian_skip adds to a velocity"):
        DualTowerDiT(tiny(gaussian_skip=8, prediction="data"))


def test_the_skip_can_be_kept_to_high_noise():
    """gaussian_skip_from a: no skip below t = a, its full velocity at t = 1, linear between."""
    cfg = tiny(gaussian_skip=8, gaussian_skip_from=0.5)
    model = DualTowerDiT(cfg).eval()
    video, audio, _, _, ids, mask = inputs(cfg)
    with torch.no_grad():
        model.video_gaussian.fit(torch.randn(10, *video.shape[1:]), 0.9)
        model.audio_gaussian.fit(torch.randn(10, *audio.shape[1:]))
        t = torch.tensor([0.3, 0.75])
        out = model(video, audio, t, t, ids, mask)  # a fresh model: the towers add zeros
        assert torch.equal(out.video[0], torch.zeros_like(out.video[0]))
        assert torch.allclose(out.video[1], 0.5 * model.video_gaussian(video, t)[1])
        assert torch.allclose(out.audio[1], 0.5 * model.audio_gaussian(audio, t)[1])
    with pytest.raises(ValueError, match="gaussian_skip_from must be in"):
        DualTowerDiT(tiny(gaussian_skip=8, gaussian_skip_from=1.0))
