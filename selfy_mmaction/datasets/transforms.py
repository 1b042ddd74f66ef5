"""Data transforms of the self-supervised pretext tasks.

:class:`PlaybackSpeedSampleFrames` builds the samples of variable playback
speed prediction (Cho et al., IEEE Access 2021): K clips of one video, each
at its own playback speed and direction, from random starts, shown in a
random order; the label is that order (an index into the K! permutations).

:class:`MotionCorruption` corrupts decoded frames at a severity 1-5 (in the
spirit of Hendrycks & Dietterich's common corruptions, ICLR 2019), for
robustness tests.
"""

import math
import warnings
import zlib
from typing import Optional, Sequence

import cv2
import numpy as np
from mmaction.registry import TRANSFORMS
from mmcv.transforms import BaseTransform

OUT_OF_BOUND_OPTS = ('skip', 'loop', 'error')


def permutation_to_label(perm: Sequence[int]) -> int:
    """Index of ``perm`` in ``itertools.permutations(range(K))`` (the
    lexicographic order), by its Lehmer code."""
    perm = [int(p) for p in perm]
    k = len(perm)
    if sorted(perm) != list(range(k)):
        raise ValueError(f'not a permutation of range({k}): {perm}')
    label = 0
    for i, p in enumerate(perm):
        smaller_after = sum(q < p for q in perm[i + 1 :])
        label += smaller_after * math.factorial(k - 1 - i)
    return label


def label_to_permutation(label: int, num_clips: int) -> tuple:
    """Inverse of :func:`permutation_to_label`."""
    if not 0 <= label < math.factorial(num_clips):
        raise ValueError(
            f'label must be in [0, {num_clips}!) = '
            f'[0, {math.factorial(num_clips)}), got {label}'
        )
    left, perm = list(range(num_clips)), []
    for i in range(num_clips - 1, -1, -1):
        pos, label = divmod(label, math.factorial(i))
        perm.append(left.pop(pos))
    return tuple(perm)


def speed_clip_indices(
    start: int, speed: int, clip_len: int, total_frames: Optional[int] = None
) -> np.ndarray:
    """0-based frame indices of one clip played at ``speed``.

    The clip covers frames ``start, start+|s|, ..., start+|s|(L-1)``; a
    negative speed plays them backwards (the same frames, reversed). With
    ``total_frames`` the indices wrap around the video (looping).
    """
    if speed == 0:
        raise ValueError('speed must be non-zero')
    inds = start + abs(speed) * np.arange(clip_len)
    if total_frames is not None:
        inds = inds % total_frames
    return inds[::-1].copy() if speed < 0 else inds


@TRANSFORMS.register_module()
class PlaybackSpeedSampleFrames(BaseTransform):
    """Sample K clips at different playback speeds, shuffled; label the order.

    Each canonical clip ``j`` plays at ``speeds[j]`` (frame stride ``|s|``;
    negative = backwards) from its own random start; the clips are shown in
    the order ``perm`` (clip ``i`` shown = canonical clip ``perm[i]``) and the
    label is :func:`permutation_to_label` of ``perm``. With
    ``num_clips < len(speeds)`` every video draws ``num_clips`` of the speeds
    (kept in the order of ``speeds``), so the task is to sort the clips.

    Videos too short for a clip (``|s|(clip_len-1)+1 > total_frames``), by
    ``out_of_bound_opt``:

    * ``'skip'`` (default): return None, so that MMEngine's dataset draws
      another video (training; in ``test_mode`` the dataset raises). No
      clip ever holds a repeated or clamped frame, which would tell the speed.
    * ``'loop'``: the video loops (indices modulo ``total_frames``). The
      wrap-around jump appears only in the fast clips and can leak their
      speed; a video so short that a looped clip would repeat a frame is
      skipped as above.
    * ``'error'``: raise a ``ValueError`` naming the video.

    Required keys: ``total_frames``, ``start_index`` (optional), and
    ``filename`` or ``frame_dir`` (messages, test-mode seeding).
    Added or modified keys: ``frame_inds`` (``K*clip_len``, clip after clip),
    ``clip_len``, ``frame_interval`` (None), ``num_clips`` (K), ``label``
    (the permutation index, replacing the video's class label) and
    ``playback_speeds`` (the speed of each shown clip, usable with
    ``PackActionInputs(algorithm_keys=('playback_speeds', ))``).

    Args:
        clip_len (int): Frames per clip.
        speeds (Sequence[int]): Distinct non-zero speeds. Defaults to
            ``(1, 2, 4, -1)``.
        num_clips (int, optional): K; defaults to ``len(speeds)``.
        out_of_bound_opt (str): ``'skip'``, ``'loop'`` or ``'error'``.
        test_mode (bool): Draw starts, speeds and order from a generator
            seeded by the file name, so that validation is repeatable.
            Defaults to False (NumPy's global generator).
    """

    def __init__(
        self,
        clip_len: int,
        speeds: Sequence[int] = (1, 2, 4, -1),
        num_clips: Optional[int] = None,
        out_of_bound_opt: str = 'skip',
        test_mode: bool = False,
    ):
        speeds = tuple(int(s) for s in speeds)
        if clip_len < 1:
            raise ValueError(f'clip_len must be >= 1, got {clip_len}')
        if 0 in speeds or len(set(speeds)) != len(speeds):
            raise ValueError(
                f'speeds must be distinct and non-zero, got {speeds}'
            )
        num_clips = len(speeds) if num_clips is None else num_clips
        if not 2 <= num_clips <= len(speeds):
            raise ValueError(
                f'num_clips must be in [2, len(speeds)='
                f'{len(speeds)}], got {num_clips}'
            )
        if out_of_bound_opt not in OUT_OF_BOUND_OPTS:
            raise ValueError(
                f'out_of_bound_opt must be one of '
                f'{OUT_OF_BOUND_OPTS}, got {out_of_bound_opt!r}'
            )
        self.clip_len = clip_len
        self.speeds = speeds
        self.num_clips = num_clips
        self.out_of_bound_opt = out_of_bound_opt
        self.test_mode = test_mode

    @property
    def num_classes(self) -> int:
        """K! orders."""
        return math.factorial(self.num_clips)

    def _rng(self, results: dict) -> np.random.Generator:
        """Seeded by the file name in test mode, else from NumPy's global
        generator (which the data loader seeds)."""
        if self.test_mode:
            name = str(results.get('filename', results.get('frame_dir', '')))
            return np.random.default_rng(zlib.crc32(name.encode()))
        return np.random.default_rng(np.random.randint(0, 2**31 - 1))

    def _clip(self, rng, speed: int, total: int, name: str):
        """Indices of one clip, or None to skip the video."""
        span = abs(speed) * (self.clip_len - 1) + 1
        if span <= total:
            start = int(rng.integers(0, total - span + 1))
            return speed_clip_indices(start, speed, self.clip_len)
        message = (
            f'{name}: {total} frames, but a clip of {self.clip_len} '
            f'frames at speed {speed} spans {span}'
        )
        if self.out_of_bound_opt == 'error':
            raise ValueError(message + " (out_of_bound_opt='error')")
        period = total // math.gcd(total, abs(speed))
        if self.out_of_bound_opt == 'loop' and period >= self.clip_len:
            start = int(rng.integers(0, total))
            return speed_clip_indices(start, speed, self.clip_len, total)
        warnings.warn(message + '; the video is skipped (another is drawn)')
        return None

    def transform(self, results: dict) -> Optional[dict]:
        total = int(results['total_frames'])
        name = str(results.get('filename', results.get('frame_dir', '?')))
        rng = self._rng(results)
        if self.num_clips < len(self.speeds):
            chosen = sorted(
                rng.permutation(len(self.speeds))[: self.num_clips]
            )
            speeds = [self.speeds[i] for i in chosen]
        else:
            speeds = list(self.speeds)
        clips = []
        for speed in speeds:
            inds = self._clip(rng, speed, total, name)
            if inds is None:
                return None
            clips.append(inds)
        perm = [int(p) for p in rng.permutation(self.num_clips)]
        results['frame_inds'] = np.concatenate(
            [clips[p] for p in perm]
        ) + results.get('start_index', 0)
        results['clip_len'] = self.clip_len
        results['frame_interval'] = None
        results['num_clips'] = self.num_clips
        results['label'] = permutation_to_label(perm)
        results['playback_speeds'] = np.array([speeds[p] for p in perm])
        return results

    def __repr__(self) -> str:
        return (
            f'{type(self).__name__}(clip_len={self.clip_len}, '
            f'speeds={self.speeds}, num_clips={self.num_clips}, '
            f'out_of_bound_opt={self.out_of_bound_opt!r}, '
            f'test_mode={self.test_mode})'
        )


#: ``kind``: per severity 1..5, the corruption's strength (see
#: :class:`MotionCorruption`).
CORRUPTION_LEVELS = dict(
    occlusion=(0.05, 0.1, 0.2, 0.3, 0.4),  # fraction of the frame area
    motion_blur=(3, 5, 7, 9, 11),  # kernel length, px
    gaussian_noise=(8, 16, 24, 32, 48),  # sigma, uint8 scale
    brightness=(0.1, 0.2, 0.3, 0.4, 0.5),  # added, fraction of 255
    frame_drop=(1, 2, 3, 4, 5),  # frames replaced
)


def motion_blur_kernel(length: int, angle: float) -> np.ndarray:
    """``(length, length)`` float32 kernel summing to 1: ``length`` samples
    along a line through the centre at ``angle`` (radians)."""
    kernel = np.zeros((length, length), np.float32)
    half = (length - 1) / 2
    t = np.linspace(-half, half, length)
    cols = np.rint(half + t * math.cos(angle)).astype(int)
    rows = np.rint(half + t * math.sin(angle)).astype(int)
    np.add.at(kernel, (rows, cols), 1.0)
    return kernel / kernel.sum()


@TRANSFORMS.register_module()
class MotionCorruption(BaseTransform):
    """Corrupt the decoded frames of a clip, deterministically per clip.

    Per ``kind``, severity 1..5 (:data:`CORRUPTION_LEVELS`):

    * ``'occlusion'``: one static rectangle of a random grey covering
      5/10/20/30/40% of the frame area, at a random place and aspect;
    * ``'motion_blur'``: a linear kernel of length 3/5/7/9/11 px at a random
      angle (the same for all frames), ``cv2.filter2D`` on every frame;
    * ``'gaussian_noise'``: sigma 8/16/24/32/48, clipped to uint8;
    * ``'brightness'``: ``round(0.1/0.2/0.3/0.4/0.5 * 255)`` added, clipped;
    * ``'frame_drop'``: 1/2/3/4/5 frames (never the first; at most all the
      others) replaced by the previous kept frame; the count is unchanged.

    The random draws come from ``default_rng([seed, crc32(filename)])``, so
    a clip is corrupted the same way in every run and worker.

    Required keys: ``imgs`` (list of ``(H, W, 3)`` uint8 frames, after
    ``DecordDecode``, before ``Resize``/``FormatShape``), ``filename`` (or
    ``frame_dir``). Modified keys: ``imgs`` (new arrays).

    Args:
        kind (str): One of :data:`CORRUPTION_LEVELS`.
        severity (int): 1..5.
        seed (int): Seed combined with the file name. Defaults to 0.
    """

    def __init__(self, kind: str, severity: int, seed: int = 0):
        if kind not in CORRUPTION_LEVELS:
            raise ValueError(
                f'kind must be one of {tuple(CORRUPTION_LEVELS)}, got {kind!r}'
            )
        if (
            isinstance(severity, bool)
            or not isinstance(severity, (int, np.integer))
            or not 1 <= severity <= 5
        ):
            raise ValueError(
                f'severity must be an int in 1..5, got {severity!r}'
            )
        self.kind = kind
        self.severity = int(severity)
        self.seed = int(seed)

    def _rng(self, results: dict) -> np.random.Generator:
        name = str(results.get('filename', results.get('frame_dir', '')))
        return np.random.default_rng([self.seed, zlib.crc32(name.encode())])

    def transform(self, results: dict) -> dict:
        imgs = [np.asarray(img) for img in results['imgs']]
        rng = self._rng(results)
        level = CORRUPTION_LEVELS[self.kind][self.severity - 1]
        getattr(self, f'_{self.kind}')(imgs, rng, level)
        results['imgs'] = imgs
        return results

    @staticmethod
    def _occlusion(imgs, rng, fraction):
        h, w = imgs[0].shape[:2]
        area = fraction * h * w
        aspect = math.exp(rng.uniform(math.log(0.5), math.log(2.0)))
        rh = int(np.clip(round(math.sqrt(area * aspect)), 1, h))
        rw = int(np.clip(round(area / rh), 1, w))
        y0 = int(rng.integers(0, h - rh + 1))
        x0 = int(rng.integers(0, w - rw + 1))
        grey = int(rng.integers(0, 256))
        for i, img in enumerate(imgs):
            imgs[i] = img.copy()
            imgs[i][y0 : y0 + rh, x0 : x0 + rw] = grey

    @staticmethod
    def _motion_blur(imgs, rng, length):
        kernel = motion_blur_kernel(length, rng.uniform(0, math.pi))
        for i, img in enumerate(imgs):
            imgs[i] = cv2.filter2D(img, -1, kernel)

    @staticmethod
    def _gaussian_noise(imgs, rng, sigma):
        for i, img in enumerate(imgs):
            noisy = img + rng.normal(0, sigma, img.shape)
            imgs[i] = np.clip(np.rint(noisy), 0, 255).astype(np.uint8)

    @staticmethod
    def _brightness(imgs, rng, delta):
        offset = int(round(delta * 255))
        for i, img in enumerate(imgs):
            imgs[i] = np.clip(img.astype(np.int16) + offset, 0, 255).astype(
                np.uint8
            )

    @staticmethod
    def _frame_drop(imgs, rng, count):
        count = min(count, len(imgs) - 1)
        dropped = set((1 + rng.permutation(len(imgs) - 1)[:count]).tolist())
        for i in sorted(dropped):
            imgs[i] = imgs[i - 1].copy()

    def __repr__(self) -> str:
        return (
            f'{type(self).__name__}(kind={self.kind!r}, '
            f'severity={self.severity}, seed={self.seed})'
        )
