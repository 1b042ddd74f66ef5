"""Export the inference weights of a DREAL training checkpoint: the plain
recognizer's ``state_dict`` (critic, optimisers, schedulers, RNG states and
message hub dropped), loadable by the config DREAL was applied to.

    python tools/dreal_export.py CHECKPOINT OUT

e.g. ``work_dirs/dreal_eca.../epoch_4.pth`` -> a file that
``tools/test.py configs/eca/eca_r18_1x1x8-4e_motion-rgb.py OUT`` evaluates
with outputs identical to the DREAL model's.
"""

import argparse
import io

import torch

import selfy_mmaction  # noqa: F401  (weights-only loading allowlist)
from selfy_mmaction.models.recognizers import plain_state_dict
from selfy_mmaction.utils.checkpoint import atomic_write, checkpoint_state_dict


def export(checkpoint: dict) -> dict:
    """``{'state_dict': <weights without the critic>}``."""
    state = checkpoint_state_dict(checkpoint)
    if not any(key.startswith('critic.') for key in state):
        raise ValueError(
            'the checkpoint has no critic.* weights: not a '
            'DREALRecognizer2D checkpoint'
        )
    return dict(state_dict=plain_state_dict(state))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('checkpoint', help='DREAL training checkpoint')
    parser.add_argument('out', help='output .pth')
    args = parser.parse_args()
    exported = export(torch.load(args.checkpoint, map_location='cpu'))
    buffer = io.BytesIO()
    torch.save(exported, buffer)
    atomic_write(args.out, buffer.getvalue())
    print(f'{args.out}: {len(exported["state_dict"])} tensors, no critic')


if __name__ == '__main__':
    main()
