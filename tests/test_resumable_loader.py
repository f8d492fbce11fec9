"""seedkit.data.resumable: a loader resumed from its state continues the interrupted epoch, and the
global random stream continues with it (what Lightning's mid-epoch resume needs; the end-to-end check
is tests/reliability/test_kill_and_resume.py)."""
import pytest
import torch
from torch.utils.data import DataLoader, RandomSampler

from seedkit.data.resumable import ResumableLoader, shuffled_loader

N, B = 10, 3  # 10 items, batches of 3: 3 full batches an epoch with drop_last


def loader(workers=0, n=N, **kw):
    return shuffled_loader(list(range(n)), B, drop_last=True, num_workers=workers,
                           persistent_workers=workers > 0, **kw)


def train(dl, epochs, stop_after=None):
    """A training loop's view: the batches, and one draw of 'noise' from the global generator per
    batch (the flow noise); returns (batches, noises, state at the stop or None)."""
    seen, noise = [], []
    for _ in range(epochs):
        for batch in dl:
            seen.append(batch.tolist())
            noise.append(torch.rand(1).item())
            if stop_after is not None and len(seen) == stop_after:
                return seen, noise, (dl.state_dict(), torch.get_rng_state())
    return seen, noise, None


def test_an_uninterrupted_run_sees_what_a_random_sampler_gives_it():
    torch.manual_seed(5)
    ours, our_noise, _ = train(loader(), epochs=2)
    torch.manual_seed(5)
    data = list(range(N))
    plain = DataLoader(data, batch_size=B, sampler=RandomSampler(data), drop_last=True)
    theirs, their_noise, _ = train(plain, epochs=2)
    assert ours == theirs and our_noise == their_noise


@pytest.mark.parametrize("workers", [0, 2])
@pytest.mark.parametrize("stop", [1, 2, 3, 4], ids=["mid-epoch", "mid-epoch-2", "epoch-end", "next-epoch"])
def test_a_resumed_loader_continues_the_interrupted_epoch_and_random_stream(workers, stop):
    torch.manual_seed(0)
    whole, whole_noise, _ = train(loader(workers), epochs=3)
    torch.manual_seed(0)
    first, first_noise, (state, rng) = train(loader(workers), epochs=3, stop_after=stop)
    assert state["next_sample"] == (stop - 1) % 3 * B + B  # what was trained on, not what workers fetched
    torch.manual_seed(123)  # a new process: its own generator state until the checkpoint's is restored
    resumed = loader(workers)
    resumed.load_state_dict(state)
    torch.set_rng_state(rng)  # seedkit.callbacks.ResumableRandomState does this
    rest, rest_noise, _ = train(resumed, epochs=3 - stop // 3)  # the epoch cut short counts as one
    assert first + rest == whole
    assert first_noise + rest_noise == whole_noise


def test_a_state_from_another_training_set_size_restarts_the_epoch_with_a_warning():
    torch.manual_seed(0)
    _, _, (state, _) = train(loader(), epochs=1, stop_after=1)
    other = loader(n=N + 3)
    with pytest.warns(UserWarning, match="13 items, the checkpoint's epoch had 10"):
        other.load_state_dict(state)
    assert len([b for b in other]) == (N + 3) // B  # a whole epoch


def test_a_loader_without_the_resumable_sampler_warns_that_it_restarts_the_epoch():
    torch.manual_seed(0)
    _, _, (state, _) = train(loader(), epochs=1, stop_after=1)
    data = list(range(N))
    plain = ResumableLoader(data, batch_size=B, shuffle=True, drop_last=True)  # e.g. DDP's sampler swapped in
    assert plain.state_dict() == {}
    with pytest.warns(UserWarning, match="RandomSampler: the rest of this epoch is drawn from a fresh shuffle"):
        plain.load_state_dict(state)
