"""Training curves of several runs side by side, from MMEngine's
``vis_data/scalars.json`` (``tools/analysis/plot_curves.py``).

MMAction2's ``analyze_logs.py`` reads the MMCV 1.x json log (it needs a
``mode`` field that MMEngine's scalars do not have), hence this reader.
"""

import glob
import json
import os.path as osp
import statistics
from typing import Dict, List, Sequence


def find_scalars(run_dir: str) -> str:
    """The newest ``scalars.json`` under ``run_dir`` (a work dir, or the
    file itself)."""
    if osp.isfile(run_dir):
        return run_dir
    found = sorted(
        glob.glob(
            osp.join(run_dir, '**', 'vis_data', 'scalars.json'), recursive=True
        ),
        key=osp.getmtime,
    )
    if not found:
        raise FileNotFoundError(f'no vis_data/scalars.json under {run_dir}')
    return found[-1]


def epoch_means(path: str, key: str) -> Dict[int, float]:
    """``{epoch: mean of key over the epoch's training log entries}``.

    Raises:
        KeyError: ``key`` is in no training entry of ``path`` (the message
            lists the keys there are).
    """
    values: Dict[int, List[float]] = {}
    keys = set()
    with open(path) as f:
        for line in f:
            if not line.strip():
                continue
            entry = json.loads(line)
            if 'epoch' not in entry:  # validation entries carry 'step'
                continue
            keys.update(entry)
            if key in entry:
                values.setdefault(entry['epoch'], []).append(entry[key])
    if not values:
        raise KeyError(
            f'{path} has no training entries with {key!r}; keys: '
            f'{sorted(keys)}'
        )
    return {epoch: statistics.mean(v) for epoch, v in sorted(values.items())}


def plot_curves(
    groups: Dict[str, Sequence[str]],
    key: str,
    out: str,
    title: str = '',
    hline: float = None,
    hline_label: str = '',
):
    """One line per run (``scalars.json`` paths), one colour per group
    (``{label: paths}``), ``key`` averaged per epoch, drawn to ``out``
    (PNG); ``hline`` draws a labelled reference (e.g. the loss at chance).
    """
    import matplotlib

    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.6), dpi=110)
    colours = plt.rcParams['axes.prop_cycle'].by_key()['color']
    for i, (label, paths) in enumerate(groups.items()):
        for j, path in enumerate(paths):
            means = epoch_means(path, key)
            ax.plot(
                list(means),
                list(means.values()),
                marker='o',
                color=colours[i % len(colours)],
                alpha=0.85,
                label=label if j == 0 else None,
            )
    if hline is not None:
        ax.axhline(hline, color='grey', linestyle='--', linewidth=1)
        ax.annotate(
            hline_label,
            (1, hline),
            xycoords=('axes fraction', 'data'),
            xytext=(-4, -3),
            textcoords='offset points',
            ha='right',
            va='top',
            color='grey',
        )
    ax.set_xlabel('epoch')
    ax.set_ylabel(f'{key} (mean over the epoch)')
    if title:
        ax.set_title(title)
    # below the axes, so it never covers a curve or the reference label
    ax.legend(frameon=False, loc='upper center', bbox_to_anchor=(0.5, -0.16))
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)
