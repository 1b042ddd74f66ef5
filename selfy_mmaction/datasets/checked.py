"""MMAction2's list-file datasets with clear errors on bad input.

``CheckedVideoDataset`` and ``CheckedRawframeDataset`` take every argument of
``VideoDataset`` / ``RawframeDataset`` and add:

- a check that the annotation file and the data root exist: if not,
  :class:`DatasetNotPreparedError`, a short message naming the missing path,
  what belongs there and (``prepare_cmd``, ``prepare_doc``) how to make it;
- a check of every annotation line before MMAction2 parses it: an empty or
  malformed line, a missing, non-integer or negative label (or one >=
  ``num_classes`` when given) raises :class:`AnnotationError` naming the
  file, the line number and the expected format (MMAction2 would turn an
  empty line into a sample with no file, and other mistakes into a bare
  ``ValueError``); label-less inference lists need MMAction2's own types;
- an error naming the sample's file when it cannot be loaded (missing, empty
  or corrupt video, missing frames): :class:`SampleLoadError`;
- ``skip_corrupt=True``: during training, a sample that cannot be loaded is
  logged (MMLogger warning), counted, and replaced by another sample (never
  in ``test_mode``: a metric over silently dropped samples would be wrong);
  :class:`~selfy_mmaction.engine.CorruptSampleHook` logs the count per epoch;
- per-sample seeding (``set_sample_seed``, called by
  :class:`~selfy_mmaction.engine.RNGStateHook`): each sample's augmentation
  is drawn from generators seeded with (seed, epoch, index), so it does not
  depend on the data loader worker nor on resumes.
"""

import contextlib
import logging
import os
import os.path as osp
from typing import List, Optional

import numpy as np
import torch
from mmaction.datasets import RawframeDataset, VideoDataset
from mmaction.registry import DATASETS
from mmengine.fileio import list_from_file
from mmengine.logging import print_log

from ..engine.rng import seeded_rng

#: Replacement samples tried in a row before giving up (``skip_corrupt``).
MAX_SUBSTITUTES = 10


class AnnotationError(ValueError):
    """A line of an annotation (list) file is malformed."""


class DatasetNotPreparedError(FileNotFoundError):
    """A dataset's annotation file or data root does not exist: the dataset
    has not been prepared (or not where the config says). The message is
    complete and short: print it without the traceback."""


class SampleLoadError(RuntimeError):
    """A sample's file cannot be loaded through the pipeline."""


def _int_field(value: str, what: str, minimum: int = 0) -> Optional[str]:
    """Problem with an integer field, or None."""
    try:
        number = int(value)
    except ValueError:
        return f'{what} {value!r} is not an integer'
    if number < minimum:
        return f'{what} {number} is below {minimum}'
    return None


def _where(path: str) -> str:
    """``path``, and the current directory if ``path`` is relative."""
    if osp.isabs(path):
        return path
    return f'{path} (relative to {os.getcwd()})'


class _CheckedMixin:
    """The checks, corrupt-sample handling and seeding shared by the two
    dataset types; subclasses define ``_line_format`` and ``_line_problem``.
    """

    def _setup_checks(
        self,
        skip_corrupt: bool,
        prepare_cmd: Optional[str],
        prepare_doc: Optional[str],
    ):
        self.skip_corrupt = skip_corrupt
        self.prepare_cmd = prepare_cmd
        self.prepare_doc = prepare_doc
        # (seed, epoch), shared with data loader workers; -1: not seeded
        self._sample_seed = torch.full(
            (2,), -1, dtype=torch.int64
        ).share_memory_()
        self._corrupt = None

    def _line_format(self) -> str:
        raise NotImplementedError

    def _data_root(self) -> str:
        """The directory the list's paths are relative to ('' if none)."""
        raise NotImplementedError

    def _data_root_content(self) -> str:
        raise NotImplementedError

    def _how_to_prepare(self) -> str:
        lines = []
        if self.prepare_cmd:
            lines.append(f'  prepare it: {self.prepare_cmd}')
        if self.prepare_doc:
            lines.append(f'  see {self.prepare_doc}')
        return ''.join('\n' + line for line in lines)

    def _check_prepared(self):
        """:class:`DatasetNotPreparedError` if the annotation file or the
        (local) data root does not exist."""
        if not osp.isfile(self.ann_file):
            raise DatasetNotPreparedError(
                f'annotation file {_where(self.ann_file)} does not exist\n'
                f'  expected: a list file, one line "{self._line_format()}" '
                f'per sample' + self._how_to_prepare()
            )
        root = self._data_root()
        if root and '://' not in root and not osp.isdir(root):
            raise DatasetNotPreparedError(
                f'data root {_where(root)} does not exist\n'
                f'  expected: a directory of {self._data_root_content()} '
                f'(the paths of {self.ann_file})' + self._how_to_prepare()
            )

    def _line_problem(self, line: str) -> Optional[str]:
        raise NotImplementedError

    def _label_problem(self, labels: List[str]) -> Optional[str]:
        if not labels:
            return 'no label'
        if not self.multi_class and len(labels) > 1:
            return f'{len(labels)} labels but multi_class=False (expected one)'
        for label in labels:
            problem = _int_field(label, 'label')
            if problem:
                return problem
            if self.num_classes is not None and int(label) >= self.num_classes:
                return (
                    f'label {label} is out of range for '
                    f'num_classes={self.num_classes}'
                )
        return None

    def load_data_list(self) -> List[dict]:
        self._check_prepared()
        if not self.ann_file.endswith('.json'):
            lines = list_from_file(self.ann_file)
            for lineno, line in enumerate(lines, 1):
                problem = (
                    'empty line'
                    if not line.strip()
                    else self._line_problem(line)
                )
                if problem:
                    raise AnnotationError(
                        f'{self.ann_file}, line {lineno}: {problem}: '
                        f'{line!r} (expected "{self._line_format()}")'
                        + self._how_to_prepare()
                    )
        data_list = super().load_data_list()
        if not data_list:
            raise AnnotationError(f'{self.ann_file} lists no samples')
        return data_list

    def full_init(self):
        if self._fully_initialized:
            return
        super().full_init()
        # one flag per sample, shared with workers (idempotent writes)
        self._corrupt = torch.zeros(
            len(self), dtype=torch.uint8
        ).share_memory_()

    def set_sample_seed(self, seed: int, epoch: int):
        """Seed every sample's pipeline with (seed, epoch, index) from now on
        (also in running persistent workers)."""
        self._sample_seed[0] = seed
        self._sample_seed[1] = epoch

    def _sample_rng(self, idx: int):
        seed, epoch = (int(v) for v in self._sample_seed)
        if seed < 0:
            return contextlib.nullcontext()
        return seeded_rng([seed, epoch, idx])

    def _sample_path(self, idx: int) -> str:
        info = self.get_data_info(idx)
        return str(info.get('filename', info.get('frame_dir', '?')))

    def prepare_data(self, idx: int):
        error = None
        for attempt in range(MAX_SUBSTITUTES + 1):
            try:
                with self._sample_rng(idx):
                    return super().prepare_data(idx)
            except Exception as err:  # noqa: BLE001 (re-raised with context)
                error = SampleLoadError(
                    f'cannot load {self._sample_path(idx)} (sample {idx} of '
                    f'{self.ann_file}): {type(err).__name__}: {err}'
                )
                if self.test_mode or not self.skip_corrupt:
                    raise error from err
                self._mark_corrupt(idx, error)
                idx = self._substitute(idx, attempt)
        raise SampleLoadError(
            f'{MAX_SUBSTITUTES + 1} samples in a row could '
            f'not be loaded (skip_corrupt=True); the last: '
            f'{error}'
        )

    def _mark_corrupt(self, idx: int, error: SampleLoadError):
        if self._corrupt is None or self._corrupt[idx]:
            return
        self._corrupt[idx] = 1
        print_log(
            f'skipping a corrupt sample ({int(self._corrupt.sum())} so far): '
            f'{error}',
            logger='current',
            level=logging.WARNING,
        )

    def _substitute(self, idx: int, attempt: int) -> int:
        """Another sample: deterministic when seeded, else MMEngine's
        random pick."""
        seed, epoch = (int(v) for v in self._sample_seed)
        if seed < 0:
            return self._rand_another()
        rng = np.random.default_rng([seed, epoch, idx, attempt + 1])
        return int(rng.integers(len(self)))

    def corrupt_samples(self) -> List[str]:
        """Files of the samples skipped so far, in all workers."""
        if self._corrupt is None:
            return []
        return [
            self._sample_path(int(i))
            for i in torch.nonzero(self._corrupt).flatten()
        ]


@DATASETS.register_module()
class CheckedVideoDataset(_CheckedMixin, VideoDataset):
    """``VideoDataset`` with checked list lines and named load errors.

    Args:
        ann_file (str): List file, lines ``<video> <label>`` (multi-class:
            ``<video> <label> [<label> ...]``).
        skip_corrupt (bool): Skip (log and count) training samples that cannot
            be loaded instead of raising. Defaults to False.
        prepare_cmd (str, optional): The command that writes ``ann_file``
            and the videos, named in the error when they are missing.
            Defaults to None.
        prepare_doc (str, optional): Where the preparation is documented
            (e.g. ``docs/datasets.md#...``), named with ``prepare_cmd``.
            Defaults to None.
        **kwargs: Arguments of MMAction2's ``VideoDataset``.
    """

    def __init__(
        self,
        ann_file: str,
        skip_corrupt: bool = False,
        prepare_cmd: Optional[str] = None,
        prepare_doc: Optional[str] = None,
        **kwargs,
    ):
        self._setup_checks(skip_corrupt, prepare_cmd, prepare_doc)
        super().__init__(ann_file, **kwargs)

    def _line_format(self):
        return '<video> <label>' + (
            ' [<label> ...]' if self.multi_class else ''
        )

    def _data_root(self):
        return self.data_prefix.get('video') or ''

    def _data_root_content(self):
        return 'the listed videos'

    def _line_problem(self, line):
        fields = line.strip().split(self.delimiter)
        if '' in fields:
            return f'empty field (repeated delimiter {self.delimiter!r}?)'
        if not self.multi_class and len(fields) != 2:
            return f'{len(fields)} fields'
        return self._label_problem(fields[1:])


@DATASETS.register_module()
class CheckedRawframeDataset(_CheckedMixin, RawframeDataset):
    """``RawframeDataset`` with checked list lines and named load errors.

    Args:
        ann_file (str): List file, lines ``<frame_dir> <total_frames>
            <label>`` (``<frame_dir> <offset> <total_frames> <label>`` with
            ``with_offset=True``; several labels if ``multi_class``).
        skip_corrupt (bool): Skip (log and count) training samples that cannot
            be loaded instead of raising. Defaults to False.
        prepare_cmd (str, optional): The command that writes ``ann_file``
            and the frames, named in the error when they are missing.
            Defaults to None.
        prepare_doc (str, optional): Where the preparation is documented
            (e.g. ``docs/datasets.md#...``), named with ``prepare_cmd``.
            Defaults to None.
        **kwargs: Arguments of MMAction2's ``RawframeDataset``.
    """

    def __init__(
        self,
        ann_file: str,
        skip_corrupt: bool = False,
        prepare_cmd: Optional[str] = None,
        prepare_doc: Optional[str] = None,
        **kwargs,
    ):
        self._setup_checks(skip_corrupt, prepare_cmd, prepare_doc)
        super().__init__(ann_file, **kwargs)

    def _data_root(self):
        return self.data_prefix.get('img') or ''

    def _data_root_content(self):
        first = self.filename_tmpl.format(self.start_index)
        return f'frame folders (<frame_dir>/{first}, ...)'

    def _line_format(self):
        offset = ' <offset>' if self.with_offset else ''
        return f'<frame_dir>{offset} <total_frames> <label>' + (
            ' [<label> ...]' if self.multi_class else ''
        )

    def _line_problem(self, line):
        fields = line.split()
        num_fixed = 3 if self.with_offset else 2
        if len(fields) < num_fixed:
            return f'{len(fields)} fields'
        if self.with_offset:
            problem = _int_field(fields[1], 'offset')
            if problem:
                return problem
        problem = _int_field(fields[num_fixed - 1], 'total_frames', 1)
        return problem or self._label_problem(fields[num_fixed:])
