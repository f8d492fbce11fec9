"""`--data.captions layout` through `seedkit fit`: a model whose vocabulary is not the data's is
refused before any step (its word ids would read other words), with the option that fixes it; with
that option the model trains and keeps the layout words for sampling."""
import pytest
import torch
from runs import fit_in_process, tiny_joint_args

from seedkit.data import BounceConfig, BounceGenerator

LAYOUT_WORDS = BounceGenerator(BounceConfig(captions="layout")).vocabulary()


def test_layout_captions_need_the_models_vocabulary_to_match(tiny_tokenizers, tmp_path):
    args = tiny_joint_args(tiny_tokenizers, tmp_path / "run", max_steps=2, every=2) + ["--data.captions=layout"]
    with pytest.raises(ValueError, match=r"vocabulary \(ball blue box green red yellow\) is not the data's.*"
                                         r"pass --model.vocabulary \[ball, blue, bottom, "):
        fit_in_process(args)
    assert not (tmp_path / "run" / "checkpoints").exists()  # refused before the first step
    fit_in_process([*args, f"--model.vocabulary=[{', '.join(LAYOUT_WORDS)}]"])
    ckpt = torch.load(tmp_path / "run" / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)
    assert ckpt["global_step"] == 2 and sorted(ckpt["hyper_parameters"]["vocabulary"]) == sorted(LAYOUT_WORDS)
