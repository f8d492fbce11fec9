import torch

from seedkit.data import AVDataModule, WordVocab


def test_batches_have_the_documented_layout():
    dm = AVDataModule(batch_size=4, num_train=8, num_val=4, num_test=4)
    dm.setup("fit")
    batch = next(iter(dm.train_dataloader()))
    assert batch["video"].shape == (4, 32, 3, 32, 32) and batch["video"].dtype == torch.float32
    assert batch["video"].min() >= -1 and batch["video"].max() <= 1
    assert batch["audio"].shape == (4, 1, 32000)
    assert batch["text_ids"].shape == batch["text_mask"].shape and batch["text_ids"].shape[0] == 4
    assert (batch["text_ids"][~batch["text_mask"]] == 0).all()
    assert len(batch["events"]) == 4 and len(batch["caption"]) == 4


def test_splits_are_disjoint_and_stable():
    a = AVDataModule(num_train=8, num_val=4, num_test=4)
    b = AVDataModule(num_train=8, num_val=4, num_test=4)
    ids = {s: [a.dataset(s)[i]["id"] for i in range(4)] for s in ("train", "val", "test")}
    assert len(set(ids["train"]) | set(ids["val"]) | set(ids["test"])) == 12  # no clip in two splits
    assert torch.equal(a.dataset("val")[2]["video"], b.dataset("val")[2]["video"])


def test_vocab_encodes_captions_and_names_unknown_words():
    v = WordVocab(["red", "ball", "blue"])
    ids, mask = v.batch(["red ball", "blue"])
    assert ids.tolist() == [[v.index["red"], v.index["ball"]], [v.index["blue"], 0]]
    assert mask.tolist() == [[True, True], [True, False]]
    assert v.decode(ids[0].tolist()) == "red ball"
    import pytest

    with pytest.raises(ValueError, match="'purple'"):
        v.encode("purple ball", strict=True)
    # a prompt typed as a sentence: case and punctuation do not make unknown words
    assert v.encode("Red ball, blue.", strict=True) == v.encode("red ball blue")


def test_layout_captions_reach_the_batches_and_the_vocabulary():
    dm = AVDataModule(batch_size=4, num_train=8, num_val=4, num_test=4, captions="layout")
    batch = next(iter(dm.test_dataloader()))
    assert all(" moving " in c for c in batch["caption"])
    # every word is known (id 1 is <unk>), and the longest caption fits the model's text table
    assert (batch["text_ids"] != 1).all() and batch["text_ids"].shape[1] <= 16
    plain = next(iter(AVDataModule(batch_size=4, num_train=8, num_val=4, num_test=4).test_dataloader()))
    assert [c.split()[:2] for c in batch["caption"]] == [c.split()[:2] for c in plain["caption"]]
    assert torch.equal(batch["video"], plain["video"])  # the same scenes, described in more words
