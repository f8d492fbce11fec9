import numpy as np
import pytest

from seedkit.data.bounce import BounceGenerator
from seedkit.metrics.seams import seam_report


def test_real_bounce_clips_change_as_much_at_seams_as_inside_latent_frames():
    gen = BounceGenerator()
    rep = seam_report([gen.scene(i).frames for i in range(16)])
    assert rep.n_clips == 16
    assert 0.8 < rep.ratio < 1.25, rep  # 0.99 measured


def test_latent_frames_from_different_scenes_show_as_seams():
    """Each 4-frame chunk from another scene: the objects jump at every seam, as in an incoherent sample."""
    gen = BounceGenerator()
    scenes = [gen.scene(i).frames for i in range(8)]
    spliced = np.concatenate([scenes[k % 8][4 * k:4 * k + 4] for k in range(8)])  # [32, H, W, 3]
    rep = seam_report(spliced)
    assert rep.ratio > 2.5, rep  # 3.5 measured; the real clips above: 0.99


def test_a_still_clip_has_no_ratio():
    rep = seam_report(np.zeros((8, 4, 4, 3), np.uint8))
    assert rep.seam_change == rep.inner_change == 0.0 and rep.ratio is None


def test_bad_input_is_a_clear_error():
    with pytest.raises(ValueError, match="uint8 frames"):
        seam_report([np.zeros((8, 4, 4, 3), np.float32)])
    with pytest.raises(ValueError, match="no seam"):
        seam_report([np.zeros((4, 4, 4, 3), np.uint8)])
    with pytest.raises(ValueError, match="at least one clip"):
        seam_report([])
    with pytest.raises(ValueError, match="frames_per_latent"):
        seam_report([np.zeros((8, 4, 4, 3), np.uint8)], frames_per_latent=1)
