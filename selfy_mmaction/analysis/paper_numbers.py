"""Numbers the papers report for one clip (data, not logic), printed beside
the measurements of :mod:`selfy_mmaction.analysis.complexity`.

At 224x224 unless ``res`` says otherwise, ImageNet-initialised ResNet-50
variants. Keys: config algorithm prefix, frames, SELFY window (None: no
window). GFLOPs are multiply-adds; ``params`` in M with a 174-class head.
Sources and status ("unconfirmed" = not read in the PDF):
docs/paper_numbers.md.
"""

_UNCONFIRMED = 'unconfirmed, docs/paper_numbers.md'
PAPER = {
    ('selfy', 8, (5, 9, 9)): dict(
        gflops=37,
        params=24.83,
        source='SELFY paper 37 G (unverified); params computed from the '
        'official code (docs/paper_numbers.md)',
    ),
    ('selfy', 16, (9, 9, 9)): dict(
        gflops=77,
        params=24.98,
        source='StructViT T5a 77 G (matches L=9, docs/paper_numbers.md); '
        'params computed from the official code',
    ),
    ('selfy', 16, (5, 9, 9)): dict(
        gflops=None,
        params=24.83,
        source='not reported (official code, L=5: 71.98 G MACs computed in '
        'docs/paper_numbers.md)',
    ),
    ('tsm', 8, None): dict(
        gflops=33,
        params=23.86,
        source='TSM paper 33 G; params computed (docs/paper_numbers.md)',
    ),
    ('tsm', 16, None): dict(
        gflops=65,
        params=23.86,
        source='TSM paper 65 G (not re-checked); params computed',
    ),
    ('tea', 8, None): dict(
        gflops=35, params=None, source=f'TEA paper ({_UNCONFIRMED})'
    ),
    ('tea', 16, None): dict(
        gflops=70, params=None, source=f'TEA paper ({_UNCONFIRMED})'
    ),
    ('stm', 8, None): dict(
        gflops=33.3, params=24.0, source=f'STM paper ({_UNCONFIRMED})'
    ),
    ('stm', 16, None): dict(
        gflops=66.5, params=24.0, source=f'STM paper ({_UNCONFIRMED})'
    ),
    ('msnet', 8, None): dict(
        gflops=34, params=None, source=f'MSNet paper ({_UNCONFIRMED})'
    ),
    ('msnet', 16, None): dict(
        gflops=67, params=None, source=f'MSNet paper ({_UNCONFIRMED})'
    ),
    ('tdn', 8, None): dict(
        gflops=36, params=None, source=f'TDN paper ({_UNCONFIRMED})'
    ),
    ('tdn', 16, None): dict(
        gflops=72, params=None, source=f'TDN paper ({_UNCONFIRMED})'
    ),
    ('tada', 8, None): dict(
        gflops=43,
        params=None,
        res=256,
        source=f'TAda2D paper, at 256x256 ({_UNCONFIRMED})',
    ),
    ('tada', 16, None): dict(
        gflops=86,
        params=None,
        res=256,
        source=f'TAda2D paper, at 256x256 ({_UNCONFIRMED})',
    ),
}
ALGO_ALIASES = {'ms': 'msnet', 'motionsqueeze': 'msnet', 'tada2d': 'tada'}
