"""A shuffling training DataLoader that a run resumed mid-epoch continues where it stopped.

Lightning saves `state_dict()` of every training DataLoader that has one into each checkpoint and
hands it back to `load_state_dict()` before the resumed run draws its first batch. A plain
`DataLoader(shuffle=True)` has none: resumed mid-epoch, it starts the epoch again from a fresh
shuffle, so the rest of the epoch is not the one the interrupted run would have seen (Lightning warns
"your dataloader is not resumable").

`ResumableShuffle` draws the epoch's order exactly as `RandomSampler` does (one seed taken from
torch's global generator when the epoch's first index is drawn, then `randperm`), so an
uninterrupted run sees the very batches it saw before, and it remembers that seed.
`ResumableLoader` counts the batches it has handed out this epoch; its state is

    {"seed": int, "next_sample": int, "size": int}   (next_sample = first index not yet trained on)

and a loader given that state starts its next epoch at `next_sample` of the same permutation: the
resumed run trains on the batches the interrupted one had left, in the same order. A state whose
epoch has no full batch left (a checkpoint at an epoch's end) resumes nothing: the next epoch draws
a fresh seed, as it would have. (With `trainer.limit_train_batches` below one epoch the loader does
not see where Lightning cut the epoch short: a checkpoint at the end of such an epoch resumes into
the rest of its permutation instead of a fresh one.)

Counting happens where Lightning takes the batches, in the main process, so workers prefetching
ahead do not count. The global random stream is kept too: creating a DataLoader iterator draws a
worker base seed from torch's global generator, which the interrupted run did at its epoch's start
(before the checkpoint's random state was saved, seedkit.callbacks.ResumableRandomState); the
resumed run's first iterator is created without leaving that draw behind, so training noise and
timesteps continue as they would have (the workers' own seeds are drawn afresh; the kit's datasets
draw nothing random in them). Under DDP Lightning swaps in a DistributedSampler (it sees a
RandomSampler); the loader then has nothing to store, and a mid-epoch state it is given restarts
the epoch with a warning.
"""
from __future__ import annotations

import warnings
from collections.abc import Iterator

import torch
from torch.utils.data import DataLoader, RandomSampler


def global_seed() -> int:
    """One 64-bit seed from torch's global generator, drawn as RandomSampler draws its epoch seed."""
    return int(torch.empty((), dtype=torch.int64).random_().item())


class ResumableShuffle(RandomSampler):
    """`RandomSampler` (no replacement) whose epoch seed is kept, and which can start an epoch midway.

    seed: the current epoch's permutation seed (None before the first index is drawn);
    start: how many indices of that permutation the current epoch skipped.
    """

    def __init__(self, data_source):
        super().__init__(data_source)
        self.seed: int | None = None
        self.start = 0
        self._resume: tuple[int, int] | None = None  # (seed, start) for the next epoch only

    @property
    def resuming(self) -> bool:
        """True when the next epoch's seed and start are already set (`resume_at`)."""
        return self._resume is not None

    def resume_at(self, seed: int, start: int) -> None:
        """Make the next epoch permutation `seed`'s, beginning at its index `start`."""
        self._resume = (int(seed), int(start))

    def __iter__(self) -> Iterator[int]:
        if self._resume is not None:
            (seed, start), self._resume = self._resume, None
        else:  # as RandomSampler: one draw from the global generator per epoch
            seed, start = global_seed(), 0
        self.seed, self.start = seed, start
        generator = torch.Generator()
        generator.manual_seed(seed)
        yield from torch.randperm(len(self.data_source), generator=generator).tolist()[start:]


def shuffled_loader(data, batch_size: int, **kwargs) -> ResumableLoader:
    """A training DataLoader: the batches of `DataLoader(data, batch_size, shuffle=True, **kwargs)`,
    resumable mid-epoch."""
    return ResumableLoader(data, batch_size=batch_size, sampler=ResumableShuffle(data), **kwargs)


class ResumableLoader(DataLoader):
    """A DataLoader with Lightning's `state_dict` / `load_state_dict`: build it with
    `sampler=ResumableShuffle(dataset)` (`shuffled_loader`; its constructor is DataLoader's, so
    Lightning can rebuild it, e.g. with a DistributedSampler)."""

    _handed_out = 0  # batches of the current epoch given to the training loop
    _resumed = False  # set by load_state_dict: the next iterator belongs to a resumed run

    def __iter__(self):
        self._handed_out = 0
        resumed, self._resumed = self._resumed, False
        one_iterator = self.num_workers > 0 and self.persistent_workers  # DataLoader keeps it for the run
        if resumed and (self.sampler.resuming or one_iterator):
            # The interrupted run drew nothing here (mid-epoch), or only the sampler's seed (an epoch's
            # start, its one iterator reset): draw just that, and drop the worker base seed's draw.
            if not self.sampler.resuming:
                self.sampler.resume_at(global_seed(), 0)
            with torch.random.fork_rng(devices=[]):
                return self._counted(super().__iter__())
        return self._counted(super().__iter__())

    def _counted(self, batches):
        for batch in batches:
            self._handed_out += 1
            yield batch

    def state_dict(self) -> dict:
        sampler = self.sampler
        if not isinstance(sampler, ResumableShuffle) or sampler.seed is None:
            return {}
        return {"seed": sampler.seed, "next_sample": sampler.start + self._handed_out * self.batch_size,
                "size": len(sampler.data_source)}

    def load_state_dict(self, state: dict) -> None:
        if not state:
            return
        self._resumed = isinstance(self.sampler, ResumableShuffle)
        size = len(self.dataset)
        left = size - state["next_sample"]
        if left <= 0 or (self.drop_last and left < self.batch_size):
            return  # the checkpoint ended its epoch: the next one shuffles afresh
        if not isinstance(self.sampler, ResumableShuffle):
            warnings.warn(f"resuming mid-epoch with a {type(self.sampler).__name__}: the rest of this "
                          "epoch is drawn from a fresh shuffle, not the interrupted run's order", stacklevel=2)
            return
        if state["size"] != size:
            warnings.warn(f"the training set has {size} items, the checkpoint's epoch had {state['size']}: "
                          "the rest of this epoch is drawn from a fresh shuffle", stacklevel=2)
            return
        self.sampler.resume_at(state["seed"], state["next_sample"])
