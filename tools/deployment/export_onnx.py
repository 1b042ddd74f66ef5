"""Export a recognizer's backbone + head (class scores) to ONNX.

    python tools/deployment/export_onnx.py CONFIG [CHECKPOINT]
        --shape N C H W --out model.onnx [--verify] [--atol 1e-4]
        [--opset 17] [--cfg-options key=value ...]

``--shape`` is the ONNX input: ``N C H W`` (the frames of one clip) or the
recognizer's input ``B T C H W`` (2D) / ``B V C T H W`` (3D). What the graph
holds and how it is checked: :mod:`selfy_mmaction.deployment.onnx_export`.
``--verify`` runs the file in onnxruntime on a random input and compares the
logits with PyTorch (prints the max abs difference; fails above ``--atol``).
Without CHECKPOINT the model keeps its initial weights.
"""

import argparse
import os.path as osp

from mmengine.config import DictAction

from selfy_mmaction.deployment.onnx_export import build_model, export, verify


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint', nargs='?')
    parser.add_argument(
        '--shape',
        type=int,
        nargs='+',
        required=True,
        help='N C H W (frames of one clip) or the '
        'recognizer input B T C H W / B V C T H W',
    )
    parser.add_argument('--out', default='model.onnx')
    parser.add_argument('--opset', type=int, default=17)
    parser.add_argument(
        '--verify',
        action='store_true',
        help='compare onnxruntime with PyTorch',
    )
    parser.add_argument(
        '--atol',
        type=float,
        default=1e-4,
        help='max abs logit difference --verify accepts',
    )
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        default={},
        help='override config entries',
    )
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    model = build_model(args.config, args.checkpoint, args.cfg_options)
    wrapper = export(model, args.shape, args.out, args.opset)
    print(
        f'wrote {args.out} ({osp.getsize(args.out) / 2**20:.1f} MiB, '
        f'opset {args.opset}, input {tuple(args.shape)})'
    )
    if not args.verify:
        return None
    result = verify(wrapper, args.out, args.shape)
    print(
        f'onnxruntime vs PyTorch: max abs logit difference '
        f'{result["max_abs_diff"]:.3g} (logits up to '
        f'{result["max_abs_logit"]:.3g}, tolerance {args.atol:g})'
    )
    if not result['max_abs_diff'] <= args.atol:
        raise SystemExit(
            f'verification failed: max abs difference '
            f'{result["max_abs_diff"]:.3g} > {args.atol:g}'
        )
    return result


if __name__ == '__main__':
    main()
