"""IdentityBatchSampler: P x K batches, ranks disjoint, deterministic."""

from collections import Counter

import pytest

import selfy_mmaction.datasets.samplers as samplers
from selfy_mmaction.datasets import IdentityBatchSampler


class FakeDataset:
    def __init__(self, labels):
        self.labels = labels

    def __len__(self):
        return len(self.labels)

    def get_data_info(self, idx):
        return dict(label=self.labels[idx])


def batches(sampler):
    idx = list(sampler)
    assert len(idx) == len(sampler)
    size = sampler.batch_size
    assert len(idx) % size == 0
    return [idx[i : i + size] for i in range(0, len(idx), size)]


def check_pk(batch, labels, p, k):
    ids = [labels[i] for i in batch]
    groups = [ids[i : i + k] for i in range(0, p * k, k)]
    assert all(len(set(g)) == 1 for g in groups)  # K of one identity
    assert len({g[0] for g in groups}) == p  # P different identities


def test_batches_are_p_by_k():
    # 10 identities with 4 to 9 tracklets
    labels = [pid for pid in range(10) for _ in range(4 + pid % 6)]
    sampler = IdentityBatchSampler(
        FakeDataset(labels), num_identities=3, num_instances=4, seed=0
    )
    got = batches(sampler)
    assert got
    for batch in got:
        check_pk(batch, labels, 3, 4)
    # chunks of an identity hold distinct tracklets unless it had to pad
    for batch in got:
        for i in range(0, 12, 4):
            assert len(set(batch[i : i + 4])) == 4


def test_few_tracklets_repeat_and_too_few_identities():
    labels = [0, 1, 1, 2, 2, 2]
    sampler = IdentityBatchSampler(
        FakeDataset(labels), num_identities=2, num_instances=4, seed=1
    )
    for batch in batches(sampler):
        check_pk(batch, labels, 2, 4)
    assert len(sampler) == 2 * 4  # one chunk each: one batch of 2 ids
    with pytest.raises(ValueError, match='3 identities, fewer than'):
        IdentityBatchSampler(FakeDataset(labels), num_identities=4)


def test_deterministic_per_seed_and_epoch():
    labels = [pid for pid in range(12) for _ in range(8)]
    make = lambda seed: IdentityBatchSampler(  # noqa: E731
        FakeDataset(labels), num_identities=4, num_instances=2, seed=seed
    )
    a, b = make(3), make(3)
    assert list(a) == list(b)
    first = list(a)
    a.set_epoch(1)
    second = list(a)
    assert second != first and len(second) == len(first)
    b.set_epoch(1)
    assert list(b) == second
    assert list(make(4)) != first
    # each epoch uses every tracklet exactly once (8 a multiple of K)
    assert Counter(first) == Counter(range(len(labels)))


def test_length_constant_over_epochs():
    labels = [pid for pid in range(9) for _ in range(1 + pid)]
    sampler = IdentityBatchSampler(
        FakeDataset(labels), num_identities=3, num_instances=2, seed=0
    )
    lengths = set()
    for epoch in range(6):
        sampler.set_epoch(epoch)
        lengths.add(len(list(sampler)))
    assert lengths == {len(sampler)}


@pytest.mark.parametrize('world_size', [2, 3])
def test_ranks_disjoint_and_equal(monkeypatch, world_size):
    labels = [pid for pid in range(16) for _ in range(6)]  # 6 = 3 chunks
    per_rank = []
    for rank in range(world_size):
        monkeypatch.setattr(
            samplers, 'get_dist_info', lambda r=rank: (r, world_size)
        )
        sampler = IdentityBatchSampler(
            FakeDataset(labels), num_identities=4, num_instances=2, seed=7
        )
        sampler.set_epoch(2)
        got = batches(sampler)
        for batch in got:
            check_pk(batch, labels, 4, 2)
        per_rank.append(got)
    assert len({len(b) for b in per_rank}) == 1  # same steps on every rank
    seen = [i for got in per_rank for batch in got for i in batch]
    assert len(seen) == len(set(seen))  # no tracklet on two ranks
    # together the ranks cover the single-process epoch (minus a remainder)
    monkeypatch.setattr(samplers, 'get_dist_info', lambda: (0, 1))
    single = IdentityBatchSampler(
        FakeDataset(labels), num_identities=4, num_instances=2, seed=7
    )
    single.set_epoch(2)
    whole = batches(single)
    usable = len(whole) // world_size * world_size
    assert sorted(seen) == sorted(i for b in whole[:usable] for i in b)


def test_bad_arguments():
    with pytest.raises(ValueError, match='must be >= 1'):
        IdentityBatchSampler(FakeDataset([0, 1]), num_identities=0)
