"""Helpers shared by the dataset preparation modules: finding the official
files, placing frames / videos, writing list files, progress, the report."""

import json
import os
import os.path as osp
import shutil
from dataclasses import dataclass, field
from typing import Dict, Iterable, Iterator, List, Sequence

from mmengine.utils import ProgressBar

#: Subdirectories of ``--src`` searched for an official annotation file.
ANNOTATION_DIRS = ('', 'annotations', 'labels')

#: How frames / videos get to ``--out``.
PLACE_MODES = ('symlink', 'copy')


class PrepareError(RuntimeError):
    """The official download is missing a file or a file is malformed (the
    message names the file and what was expected)."""


@dataclass
class PrepareResult:
    """What a preparation wrote.

    Attributes:
        files (dict): Role (``train_list``, ``val_list``, ``classes``,
            ``data_root``) -> path written.
        counts (dict): Split -> number of samples listed.
        problems (dict): Problem -> ids of the samples that have it (left
            out of the lists unless the problem says otherwise).
    """

    files: Dict[str, str] = field(default_factory=dict)
    counts: Dict[str, int] = field(default_factory=dict)
    problems: Dict[str, List[str]] = field(default_factory=dict)

    def report(self, problem: str, sample: str):
        self.problems.setdefault(problem, []).append(sample)


def find_input(
    src: str,
    names: Sequence[str],
    what: str,
    subdirs: Sequence[str] = ANNOTATION_DIRS,
) -> str:
    """The first of ``names`` found in ``src`` or its ``subdirs``.

    Raises:
        PrepareError: None is there (the message lists where it looked).
    """
    for name in names:
        for sub in subdirs:
            path = osp.join(src, sub, name)
            if osp.exists(path):
                return path
    places = ', '.join(osp.join(src, sub) or src for sub in subdirs)
    raise PrepareError(
        f'{what} not found: none of {", ".join(names)} in {places}'
    )


def load_json(path: str):
    """The parsed json file, or a :class:`PrepareError` naming it."""
    try:
        with open(path, encoding='utf-8') as f:
            return json.load(f)
    except json.JSONDecodeError as err:
        raise PrepareError(f'{path} is not valid json: {err}')


def track(items: Iterable, total: int, show: bool) -> Iterator:
    """``items`` with an MMEngine progress bar (when ``show``)."""
    bar = ProgressBar(total) if show and total else None
    for item in items:
        yield item
        if bar is not None:
            bar.update()
    if bar is not None:
        print()


def write_lines(path: str, lines: Iterable[str]) -> str:
    """Write ``lines`` (one per line) atomically; returns ``path``."""
    os.makedirs(osp.dirname(path) or '.', exist_ok=True)
    tmp = path + '.tmp'
    with open(tmp, 'w') as f:
        f.writelines(f'{line}\n' for line in lines)
    os.replace(tmp, path)
    return path


def place_data(
    src_dir: str, dst: str, names: Sequence[str], mode: str, show: bool
) -> str:
    """Make ``dst`` hold ``src_dir``'s ``names`` (files or folders).

    Args:
        src_dir (str): The official frames / videos folder.
        dst (str): The data root the configs read.
        names (Sequence[str]): Entries of ``src_dir`` the lists use.
        mode (str): ``'symlink'``: ``dst`` becomes a link to ``src_dir``
            (nothing copied); ``'copy'``: the ``names`` are copied into
            ``dst`` (existing ones kept).
        show (bool): Progress bar while copying.

    Returns:
        str: ``dst``.
    """
    if mode not in PLACE_MODES:
        raise ValueError(f'mode must be one of {PLACE_MODES}, got {mode!r}')
    src_dir = osp.abspath(src_dir)
    if mode == 'symlink':
        if osp.islink(dst) and osp.realpath(dst) == osp.realpath(src_dir):
            return dst
        if osp.lexists(dst):
            raise PrepareError(
                f'{dst} already exists and is not a link to {src_dir}: '
                f'remove it, or use mode "copy"'
            )
        os.makedirs(osp.dirname(dst) or '.', exist_ok=True)
        os.symlink(src_dir, dst)
        return dst
    if osp.islink(dst):
        raise PrepareError(f'{dst} is a link: remove it to copy into it')
    os.makedirs(dst, exist_ok=True)
    for name in track(names, len(names), show):
        source, target = osp.join(src_dir, name), osp.join(dst, name)
        if osp.exists(target):
            continue
        if osp.isdir(source):
            shutil.copytree(source, target + '.tmp', dirs_exist_ok=True)
        else:
            shutil.copyfile(source, target + '.tmp')
        os.replace(target + '.tmp', target)
    return dst


def entries(directory: str, what: str) -> set:
    """Names in ``directory`` (one listing, for fast membership tests)."""
    if not osp.isdir(directory):
        raise PrepareError(f'{what} not found: {directory} is not a directory')
    return set(os.listdir(directory))


def label_index(names: List[str], source: str) -> Dict[str, int]:
    """Class name -> index (position in ``names``); duplicate names are an
    error."""
    index = {}
    for i, name in enumerate(names):
        if name in index:
            raise PrepareError(
                f'{source}: class {name!r} is listed twice '
                f'(entries {index[name]} and {i})'
            )
        index[name] = i
    return index


def lookup_label(
    index: Dict[str, int], name: str, source: str, where: str
) -> int:
    """``index[name]`` or a :class:`PrepareError` naming ``where``."""
    try:
        return index[name]
    except KeyError:
        raise PrepareError(f'{where}: class {name!r} is not in {source}')


def dataset_dir(src: str, names: Sequence[str], what: str) -> str:
    """The first of ``names`` that is a directory under ``src`` (or ``src``
    itself when it is already that folder)."""
    for name in names:
        path = osp.join(src, name)
        if osp.isdir(path):
            return path
    if osp.basename(osp.normpath(src)) in names:
        return src
    raise PrepareError(
        f'{what} not found: none of '
        f'{", ".join(osp.join(src, n) for n in names)} is a '
        f'directory'
    )
