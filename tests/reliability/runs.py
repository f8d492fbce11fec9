"""Helpers of the reliability tests: a tiny joint-training command, run here or in a subprocess."""
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent
TINY_DIT = ('{"video_dim": 32, "video_depth": 1, "video_heads": 2, "audio_dim": 32, "audio_depth": 1, '
            '"audio_heads": 2, "text_dim": 16, "mlp_ratio": 2.0}')  # a few thousand parameters per tower


def tiny_joint_args(tokenizers, root: Path, max_steps: int = 12, every: int = 3, batch_size: int = 2,
                    steps_per_epoch: int = 3) -> list[str]:
    """`seedkit fit` arguments for a tiny JointAV run on bounce: no validation, no logger, checkpoints
    every `every` steps into root/checkpoints (last.ckpt kept)."""
    video, audio = tokenizers
    from seedkit.demo import config_path

    return ["fit", "--config", config_path("joint_bounce.yaml"),
            f"--model.video_tokenizer={video}", f"--model.audio_tokenizer={audio}",
            f"--model.model={TINY_DIT}", "--model.warmup_steps=2", "--model.val_samples=0",
            f"--data.batch_size={batch_size}", f"--data.num_train={batch_size * steps_per_epoch}",
            "--data.num_val=2", f"--trainer.max_steps={max_steps}", "--trainer.logger=false",
            "--trainer.limit_val_batches=0", "--trainer.num_sanity_val_steps=0",
            "--trainer.enable_progress_bar=false", "--trainer.enable_model_summary=false",
            f"--trainer.default_root_dir={root}",
            f"--trainer.callbacks.init_args.dirpath={root / 'checkpoints'}",
            f"--trainer.callbacks.init_args.every_n_train_steps={every}"]


def seedkit_env() -> dict:
    """Environment of a `seedkit` subprocess: one thread (deterministic, polite), no W&B."""
    return {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "WANDB_MODE": "disabled",
            "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")])}


def fit_in_process(args: list[str]) -> None:
    """`seedkit fit ARGS` in this process on one thread, like the `seedkit_popen` runs (same kernels,
    same bits); the thread count is put back afterwards."""
    import torch

    from seedkit.training_cli import run

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        run(args)
    finally:
        torch.set_num_threads(threads)


def seedkit_popen(args: list[str], log: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "seedkit.cli", *args], env=seedkit_env(),
                            stdout=log.open("w"), stderr=subprocess.STDOUT)
