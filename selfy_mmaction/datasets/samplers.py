"""P x K identity sampler for metric learning (re-identification).

Batch-hard triplet losses need several identities per batch and several
tracklets of each. :class:`IdentityBatchSampler` yields indices in consecutive
groups of ``P * K`` (P identities, K tracklets each); with the data loader's
``batch_size = P * K`` every batch is such a group.
"""

from collections import defaultdict
from typing import Iterator, List, Optional

import numpy as np
from mmaction.registry import DATA_SAMPLERS
from mmengine.dist import get_dist_info, sync_random_seed
from torch.utils.data import Sampler


@DATA_SAMPLERS.register_module()
class IdentityBatchSampler(Sampler):
    """Batches of ``num_identities`` (P) identities x ``num_instances`` (K).

    Per epoch (deterministic in ``seed`` and the epoch): each identity's
    tracklets are shuffled and cut into chunks of K (a last short chunk is
    filled with tracklets of the identity's other chunks drawn at random; an
    identity with fewer than K tracklets repeats some); each batch then takes
    one chunk from each of the P identities with the most chunks left (ties
    broken at random), until fewer than P identities have chunks left. So
    all epochs have the same number of batches. Under distributed training
    the batches are dealt round-robin to the ranks (each rank
    ``len(batches) // world_size`` batches, so all ranks run the same number
    of steps and no chunk goes to two ranks).

    Args:
        dataset: A dataset whose ``get_data_info(i)[label_key]`` is the
            identity of sample ``i``.
        num_identities (int): P, identities per batch. Defaults to 8.
        num_instances (int): K, tracklets per identity. Defaults to 4.
        label_key (str): Data-info key of the identity. Defaults to
            ``'label'``.
        seed (int, optional): Shuffling seed, shared by all ranks (None: a
            random one synchronised across ranks). Defaults to None.

    The data loader's ``batch_size`` must be ``P * K``.
    """

    def __init__(
        self,
        dataset,
        num_identities: int = 8,
        num_instances: int = 4,
        label_key: str = 'label',
        seed: Optional[int] = None,
    ) -> None:
        if num_identities < 1 or num_instances < 1:
            raise ValueError(
                f'num_identities (P) and num_instances (K) must '
                f'be >= 1, got {num_identities}, {num_instances}'
            )
        self.rank, self.world_size = get_dist_info()
        self.num_identities = num_identities
        self.num_instances = num_instances
        self.seed = sync_random_seed() if seed is None else seed
        self.epoch = 0
        groups = defaultdict(list)
        for idx in range(len(dataset)):
            groups[int(dataset.get_data_info(idx)[label_key])].append(idx)
        if len(groups) < num_identities:
            raise ValueError(
                f'the dataset has {len(groups)} identities, '
                f'fewer than num_identities={num_identities}'
            )
        self.groups = [groups[pid] for pid in sorted(groups)]
        self._length = len(self._rank_batches(0)) * self.batch_size

    @property
    def batch_size(self) -> int:
        """P * K, the data loader's batch size."""
        return self.num_identities * self.num_instances

    def _epoch_batches(self, epoch: int) -> List[List[int]]:
        """All batches of an epoch (the same on every rank)."""
        rng = np.random.default_rng([self.seed, epoch])
        k = self.num_instances
        chunks = []  # one list of chunks per identity
        for members in self.groups:
            members = list(rng.permutation(members))
            short = -len(members) % k
            if short:  # fill the last chunk, from the other chunks if any
                others = members[: len(members) - (k - short)] or members
                members += list(
                    rng.choice(others, short, replace=short > len(others))
                )
            chunks.append(
                [members[i : i + k] for i in range(0, len(members), k)]
            )
        batches = []
        while True:
            # the P identities with the most chunks left, ties in random
            # order: the number of batches then depends only on the chunk
            # counts, so every epoch has the same length
            tie_break = rng.permutation(len(chunks))
            order = sorted(
                range(len(chunks)),
                key=lambda i: (-len(chunks[i]), tie_break[i]),
            )
            picked = order[: self.num_identities]
            if not chunks[picked[-1]]:
                return batches
            picked = rng.permutation(picked)
            batches.append(
                [int(idx) for i in picked for idx in chunks[i].pop()]
            )

    def _rank_batches(self, epoch: int) -> List[List[int]]:
        batches = self._epoch_batches(epoch)
        usable = len(batches) // self.world_size * self.world_size
        return batches[self.rank : usable : self.world_size]

    def __iter__(self) -> Iterator[int]:
        for batch in self._rank_batches(self.epoch):
            yield from batch

    def __len__(self) -> int:
        return self._length

    def set_epoch(self, epoch: int) -> None:
        """Use the batches of ``epoch`` from the next iteration on."""
        self.epoch = epoch
