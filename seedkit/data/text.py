"""Word-level text tokenizer: captions and transcripts have small, closed vocabularies."""
from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import torch

PAD, UNK = "<pad>", "<unk>"


def words_of(text: str) -> list[str]:
    """The lower-case words of a text, punctuation dropped: "Red ball, blue box." -> red ball blue box
    (captions and transcripts are bare words: the same ids as before for them)."""
    return re.findall(r"[\w']+", text.lower())


class UnknownWordError(ValueError):
    """A prompt uses a word the model never saw."""


class WordVocab:
    """Maps words to ids. Id 0 is padding, id 1 stands for an unknown word."""

    def __init__(self, words: Iterable[str]):
        uniq = sorted({w.lower() for w in words} - {PAD, UNK})
        self.words: list[str] = [PAD, UNK, *uniq]
        self.index = {w: i for i, w in enumerate(self.words)}

    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word: str) -> bool:
        return word.lower() in self.index

    @property
    def pad_id(self) -> int:
        return 0

    def encode(self, text: str, strict: bool = False) -> list[int]:
        """Text -> ids. With `strict`, an unknown word raises `UnknownWordError` naming it."""
        ids = []
        for w in words_of(text):
            if w not in self.index:
                if strict:
                    known = " ".join(self.words[2:])
                    raise UnknownWordError(f"word {w!r} is not in the vocabulary; known words: {known}")
                ids.append(1)
            else:
                ids.append(self.index[w])
        return ids

    def decode(self, ids: Sequence[int]) -> str:
        return " ".join(self.words[i] for i in ids if i != 0)

    def batch(self, texts: Sequence[str], max_len: int | None = None, strict: bool = False):
        """Texts -> `text_ids [B, L]` (0-padded) and `text_mask [B, L]` (True on real tokens).

        L is the longest text (at least 1, so an empty caption still yields a masked slot).
        """
        enc = [self.encode(t, strict) for t in texts]
        length = max([1] + [len(e) for e in enc]) if max_len is None else max_len
        ids = torch.zeros(len(enc), length, dtype=torch.long)
        mask = torch.zeros(len(enc), length, dtype=torch.bool)
        for i, e in enumerate(enc):
            e = e[:length]
            ids[i, : len(e)] = torch.tensor(e, dtype=torch.long)
            mask[i, : len(e)] = True
        return ids, mask

    def state_dict(self) -> dict:
        return {"words": list(self.words)}

    @classmethod
    def from_state_dict(cls, state: dict) -> "WordVocab":
        return cls(state["words"])
