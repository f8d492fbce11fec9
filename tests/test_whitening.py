"""Spectral whitening of the video latents (`seedkit.model.whitening`): an exact inverse, the
variances it promises along the fitted directions, and the identity until fitted."""
import pytest
import torch

from seedkit.model.whitening import SpectralWhitening
from seedkit.noise import whiten_frames


def strong_latents(n: int = 400, frames: int = 4, per_frame: int = 3, seed: int = 0) -> torch.Tensor:
    """Latents [n, frames, per_frame] with a few directions of large variance (up to ~400)."""
    g = torch.Generator().manual_seed(seed)
    d = frames * per_frame
    q = torch.linalg.qr(torch.randn(d, d, generator=g, dtype=torch.float64)).Q
    scales = torch.tensor([20.0, 8.0, 3.0] + [0.5] * (d - 3), dtype=torch.float64)
    z = torch.randn(n, d, generator=g, dtype=torch.float64) * scales
    return (z @ q.T + 1.5).float().reshape(n, frames, per_frame)


@pytest.mark.parametrize("rho", [0.0, 0.9])
@pytest.mark.parametrize("alpha", [1.0, 0.5])
def test_inverse_is_exact_and_strong_directions_get_the_promised_variance(alpha, rho):
    data = strong_latents()
    w = SpectralWhitening((4, 3), rank=5, alpha=alpha).fit(data, rho)
    out = w(data)
    assert out.shape == data.shape
    # exact up to float32 round-off: data up to ~40 through scalings of up to ~20 and the frame
    # whitening leave up to 5e-4 on an AMD EPYC (1e-4 on a Xeon); a wrong inverse is off by O(1)
    assert torch.allclose(w.inverse(out), data, atol=2e-3)
    # along each fitted direction (in noise-whitened coordinates) the variance lam becomes
    # lam^(1 - alpha) where lam > 1, and stays lam where lam <= 1
    y = whiten_frames(out.double(), rho).flatten(1)
    c = (y - y.mean(0)) @ w.basis.double()
    got = c.var(0)
    lam = w.eig.double()
    want = torch.where(lam > 1, lam ** (1 - alpha), lam)
    assert torch.allclose(got, want, rtol=1e-3), (got, want)
    assert lam[0] > 100  # the test data has directions far stronger than the noise
    # directions outside the basis are left alone
    resid = lambda v: v - (v @ w.basis.double()) @ w.basis.double().T  # noqa: E731
    assert torch.allclose(resid(y), resid(whiten_frames(data.double(), rho).flatten(1)), atol=1e-4)


def test_unfitted_is_the_identity_and_bad_options_are_refused():
    w = SpectralWhitening((4, 3), rank=5, alpha=1.0)
    x = torch.randn(2, 4, 3)
    assert torch.equal(w(x), x) and torch.equal(w.inverse(x), x)
    with pytest.raises(ValueError, match=r"video_whitening \(alpha\) must be in \(0, 1\]"):
        SpectralWhitening((4, 3), rank=5, alpha=1.5)
    with pytest.raises(ValueError, match=r"whitening_rank must be in \[1, 12\]"):
        SpectralWhitening((4, 3), rank=13, alpha=1.0)
    with pytest.raises(ValueError, match=r"latents of shape \(3, 4\), expected \(4, 3\)"):
        w.fit(torch.randn(8, 3, 4))
    with pytest.raises(ValueError, match="at least 2"):
        w.fit(torch.randn(1, 4, 3))


def test_a_loaded_state_dict_whitens_like_the_fitted_module():
    data = strong_latents()
    w = SpectralWhitening((4, 3), rank=5, alpha=0.5).fit(data, 0.9)
    fresh = SpectralWhitening((4, 3), rank=5, alpha=0.5)
    fresh.load_state_dict(w.state_dict())
    assert torch.allclose(fresh(data), w(data)) and not torch.equal(fresh(data), data)
