"""What a SELFY block sees: the space-time self-similarity (STSS) of a few
query points of one video, and the motion it implies (the command line is
``tools/visualize_stss.py``).

The recognizer runs the config's test pipeline on the video; a forward hook
on the SELFY block (the first ``SELFYBlock`` of the model unless ``layer``
names one) captures its input, and the block's own ``stss_transformation``
(3x3 conv + BN + ReLU, L2 normalisation, ``selfy_mmaction.ops.stss``)
recomputes the ``(L, U, V)`` similarity volume of the first clip.

:func:`draw`: one row per query point (``points`` in pixels of the
network's input frame; default: the positions of frame ``t`` whose features
change most over the temporal window). Left: frame ``t`` with the query
(white circle) and, per temporal offset, an arrow to the soft-argmax match
in frame ``t + dt``; then the ``U x V`` similarity map of each offset ``dt``
(``+``: zero displacement, ``x``: soft-argmax displacement, the expectation
of the offset under ``softmax(similarity / temperature)``). Frames outside
the clip (zero padding) and window cells outside the feature map are grey.
"""

import os
import os.path as osp
from typing import List, Optional, Sequence, Tuple

import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import Compose, pseudo_collate

from ..models.blocks.selfy import SELFYBlock, STSSExtraction


def find_selfy_block(model: torch.nn.Module, layer: Optional[str] = None):
    """``(name, block)`` of the SELFY block named ``layer`` (a dotted module
    name such as ``backbone.stage_blocks.layer2.0``), or of the model's first
    SELFY block."""
    found = [
        (name, m)
        for name, m in model.named_modules()
        if isinstance(m, SELFYBlock)
    ]
    if not found:
        raise ValueError(
            f'{type(model).__name__} with backbone '
            f'{type(getattr(model, "backbone", None)).__name__} has no '
            f'SELFYBlock: nothing to visualise (use a SELFY config)'
        )
    if layer is None:
        return found[0]
    names = [name for name, _ in found]
    for name, block in found:
        if name == layer:
            return name, block
    raise ValueError(
        f'layer {layer!r} is not a SELFYBlock of this model; '
        f'its SELFY blocks are {names}'
    )


def load_clip(model: torch.nn.Module, video: str) -> dict:
    """The config's test pipeline on ``video``, collated as a batch of 1."""
    if not osp.isfile(video):
        raise FileNotFoundError(f'video file {video!r} does not exist')
    cfg = model.cfg
    data = dict(
        filename=video,
        label=-1,
        modality='RGB',
        start_index=cfg.test_dataloader.dataset.get('start_index', 0),
    )
    return pseudo_collate([Compose(cfg.test_pipeline)(data)])


def capture_block_input(
    model: torch.nn.Module, block: torch.nn.Module, data: dict
):
    """Run the recognizer (test mode) and return ``(block input, pred)``:
    the ``(N*T, C, H, W)`` features entering ``block`` and the first
    sample's ``ActionDataSample``."""
    captured = {}

    def hook(module, args, output):
        captured['x'] = args[0].detach()

    handle = block.register_forward_hook(hook)
    try:
        with torch.no_grad():
            results = model.test_step(data)
    finally:
        handle.remove()
    return captured['x'], results[0]


def motion_from_stss(
    similarity: torch.Tensor,
    window: Sequence[int],
    dilation: Sequence[int] = (1, 1),
    temperature: float = 0.01,
) -> torch.Tensor:
    """Soft-argmax displacement of every position and temporal offset.

    Args:
        similarity (Tensor): ``(N, T, L, U, V, H, W)`` STSS.
        window (Sequence[int]): ``(L, U, V)``.
        dilation (Sequence[int]): ``(dy, dx)`` of the window.
        temperature (float): Of the softmax over the ``U x V`` offsets.

    Returns:
        Tensor: ``(N, T, L, 2, H, W)``: ``(dx, dy)``, the expected column and
        row offset in feature cells, ``sum p * offset`` with
        ``p = softmax(S / temperature)`` (the block's parameter-free
        ``'softargmax'`` extraction, without its Gaussian, rescaled).
    """
    _, u, v = window
    extraction = STSSExtraction(
        window,
        variant='softargmax',
        temperature=temperature,
        gaussian_sigma=None,
        with_confidence=False,
    ).to(similarity.device)
    motion = extraction(similarity.float())
    scale = similarity.new_tensor(
        [max(v // 2, 1) * dilation[1], max(u // 2, 1) * dilation[0]]
    )
    return motion * scale.view(2, 1, 1)


def valid_offsets(num_frames: int, frame: int, window: Sequence[int]):
    """Per temporal offset of the window: whether ``frame + dt`` is inside
    the clip (outside, the STSS is zero padding)."""
    half = window[0] // 2
    return [0 <= frame + dt < num_frames for dt in range(-half, half + 1)]


def feature_change(similarity: torch.Tensor, frame: int) -> torch.Tensor:
    """``(H, W)``: ``1 - S`` at zero displacement, averaged over the other
    frames of the window inside the clip, for clip 0 at ``frame``: where
    the features of frame ``frame`` change most."""
    _, t, offsets, u, v, _, _ = similarity.shape
    keep = [
        i
        for i, ok in enumerate(valid_offsets(t, frame, (offsets, u, v)))
        if ok and i != offsets // 2
    ]
    if not keep:  # a single frame: nothing changes
        return similarity.new_zeros(similarity.shape[-2:])
    centre = similarity[0, frame, keep, u // 2, v // 2]
    return (1 - centre).mean(0)


def strongest_points(
    score: torch.Tensor, count: int = 3, min_distance: int = 2
) -> List[Tuple[int, int]]:
    """Up to ``count`` cells ``(row, col)`` of the highest ``score``, each at
    least ``min_distance`` cells (Chebyshev) from the ones before."""
    order = torch.argsort(score.flatten(), descending=True).tolist()
    width = score.shape[1]
    chosen = []
    for idx in order:
        cell = divmod(idx, width)
        if all(
            max(abs(cell[0] - r), abs(cell[1] - c)) >= min_distance
            for r, c in chosen
        ):
            chosen.append(cell)
        if len(chosen) == count:
            break
    return chosen


def inside_map(cell, map_size, window, dilation) -> torch.Tensor:
    """``(U, V)`` bool: which window offsets of ``cell`` fall inside the
    ``(H', W')`` map (outside, the STSS compares with zero padding)."""
    (r, c), (hm, wm), (_, u, v), (dy, dx) = cell, map_size, window, dilation
    rows = r + (torch.arange(u) - u // 2) * dy
    cols = c + (torch.arange(v) - v // 2) * dx
    return ((rows >= 0) & (rows < hm))[:, None] & ((cols >= 0) & (cols < wm))[
        None, :
    ]


def point_to_cell(point, frame_size, map_size):
    """Pixel ``(x, y)`` of the ``(H, W)`` input frame -> STSS cell
    ``(row, col)`` of the ``(H', W')`` map."""
    (x, y), (h, w), (hm, wm) = point, frame_size, map_size
    if not (0 <= x < w and 0 <= y < h):
        raise ValueError(
            f'point ({x:g}, {y:g}) is outside the {w}x{h} input '
            f'frame (x in [0, {w}), y in [0, {h}))'
        )
    return int(y * hm / h), int(x * wm / w)


def compute(
    model,
    video: str,
    points=None,
    layer: Optional[str] = None,
    frame: Optional[int] = None,
    temperature: float = 0.01,
) -> dict:
    """Everything the figure shows, as tensors (see :func:`draw`)."""
    name, block = find_selfy_block(model, layer)
    data = load_clip(model, video)
    frames = data['inputs'][0]
    if frames.dim() != 4:
        raise ValueError(
            f'expected (T, C, H, W) frames from the test '
            f'pipeline (FormatShape NCHW), got '
            f'{tuple(frames.shape)}'
        )
    x, pred = capture_block_input(model, block, data)
    t = block.num_segments
    clips = x.shape[0] // t
    if frames.shape[0] % (clips * t):
        raise ValueError(
            f'{frames.shape[0]} input frames do not split into '
            f"{clips} clips of the block's {t} segments"
        )
    step = frames.shape[0] // (clips * t)  # input frames per block frame
    frame = t // 2 if frame is None else frame
    if not 0 <= frame < t:
        raise ValueError(
            f'frame must be in [0, {t}) (the block sees {t} '
            f'frames), got {frame}'
        )
    transformation = block.stss_transformation
    with torch.no_grad():
        similarity = transformation(x[:t]).float()  # clip 0: (1,T,L,U,V,h,w)
    window, dilation = transformation.window, transformation.dilation
    motion = motion_from_stss(similarity, window, dilation, temperature)
    frame_size = tuple(frames.shape[-2:])
    map_size = tuple(similarity.shape[-2:])
    if points:
        cells = [point_to_cell(p, frame_size, map_size) for p in points]
    else:
        cells = strongest_points(feature_change(similarity, frame))
    return dict(
        layer=name,
        window=window,
        dilation=dilation,
        frame=frame,
        num_frames=t,
        temperature=temperature,
        cells=cells,
        image=frames[frame * step].permute(1, 2, 0).numpy(),
        frame_size=frame_size,
        map_size=map_size,
        maps=torch.stack(
            [similarity[0, frame, :, :, :, r, c] for r, c in cells]
        ).cpu(),
        motion=torch.stack(
            [motion[0, frame, :, :, r, c] for r, c in cells]
        ).cpu(),
        inside=torch.stack(
            [inside_map(cell, map_size, window, dilation) for cell in cells]
        ),
        valid=valid_offsets(t, frame, window),
        pred_label=int(pred.pred_label),
        pred_score=pred.pred_score.cpu(),
    )


def class_names(cfg: Config, path: Optional[str] = None):
    """Names from ``path`` (one a line), or the motion dataset's classes when
    the config uses it, or None."""
    if path is not None:
        with open(path) as f:
            return [line.strip() for line in f if line.strip()]
    dataset = cfg.get('test_dataloader', {}).get('dataset', {})
    if dataset.get('type') == 'MotionVideoDataset':
        from selfy_mmaction.datasets.motion import MotionDatasetSpec

        return MotionDatasetSpec(**(dataset.get('spec') or {})).classes
    return None


def draw(result: dict, path: str, names=None, panel: float = 1.5):
    """Write the figure (palette PNG) of :func:`compute`'s ``result``."""
    import matplotlib

    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    maps, motion = result['maps'].numpy(), result['motion'].numpy()
    num_points, length, u, v = maps.shape
    (h, w), (hm, wm) = result['frame_size'], result['map_size']
    cell_h, cell_w = h / hm, w / wm
    dy, dx = result['dilation']
    half = length // 2
    colours = [plt.get_cmap('tab10')(i % 10) for i in range(length)]
    colours[half] = 'black'
    # grey: window cells outside the feature map or the clip
    cmap = plt.get_cmap('viridis').with_extremes(bad='lightgrey')
    vmin = min(0.0, float(maps.min()))
    fig, axes = plt.subplots(
        num_points,
        length + 1,
        squeeze=False,
        figsize=(panel * (length + 1.3), panel * num_points + 0.7),
    )
    extent = (
        -(v // 2) * dx - dx / 2,
        (v // 2) * dx + dx / 2,
        (u // 2) * dy + dy / 2,
        -(u // 2) * dy - dy / 2,
    )
    for row, (r, c) in enumerate(result['cells']):
        ax = axes[row, 0]
        ax.imshow(result['image'], interpolation='nearest')
        qx, qy = (c + 0.5) * cell_w - 0.5, (r + 0.5) * cell_h - 0.5
        for i in range(length):
            mx, my = motion[row, i]
            if i != half and result['valid'][i]:
                ax.annotate(
                    '',
                    xy=(qx + mx * cell_w, qy + my * cell_h),
                    xytext=(qx, qy),
                    arrowprops=dict(arrowstyle='->', lw=2, color=colours[i]),
                )
        ax.plot(qx, qy, 'o', ms=4, mfc='none', mec='white', mew=1.5)
        ax.set_ylabel(f'query ({qx:.0f}, {qy:.0f})', fontsize=7)
        for i in range(length):
            ax = axes[row, i + 1]
            valid = result['valid'][i]
            shown = np.where(
                result['inside'][row].numpy() & valid, maps[row, i], np.nan
            )
            image = ax.imshow(
                shown,
                vmin=vmin,
                vmax=1,
                cmap=cmap,
                extent=extent,
                interpolation='nearest',
            )
            ax.plot(0, 0, '+', color='white', ms=6)
            if valid:
                ax.plot(*motion[row, i], 'x', color='red', ms=6, mew=1.5)
            if row == 0:
                ax.set_title(
                    f'dt={i - half:+d}'
                    if valid
                    else f'dt={i - half:+d} (outside)',
                    fontsize=8,
                    color=colours[i],
                )
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    axes[0, 0].set_title(f'frame {result["frame"]}', fontsize=8)
    label = result['pred_label']
    name = names[label] if names and label < len(names) else f'class {label}'
    score = float(result['pred_score'][label])
    fig.suptitle(
        f'{result["layer"]}: STSS window (L, U, V) = '
        f'{tuple(result["window"])}, frame {result["frame"]} of '
        f'{result["num_frames"]}; prediction: {name} ({score:.2f})',
        fontsize=8,
    )
    fig.colorbar(
        image,
        ax=axes[:, 1:].ravel().tolist(),
        fraction=0.02,
        pad=0.01,
        label='cosine similarity',
    )
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=100, bbox_inches='tight')
    plt.close(fig)
    from PIL import Image  # a 256-colour palette keeps the PNG small

    Image.open(path).convert('RGB').quantize(256).save(path, optimize=True)
