"""Build the wheel, install it in a fresh virtual environment and use it from
a scratch folder, as a user of another project would.

    python .ci/wheel_check.py [--keep DIR]

Checks (each counted; the last line is `wheel-check: N passed, N failed`):
1. the wheel carries LICENSE, the configs and tools under selfy_mmaction/.mim;
2. in the fresh venv, `selfy_mmaction` imports from site-packages;
3. a config in a scratch folder inheriting
   `selfy_mmaction::selfy/selfy_imagenet-pretrained-r50_8xb8-1x1x8-50e_sthv1-rgb.py`
   loads, builds its model and runs a `test_step`;
4. `mim train selfy_mmaction selfy_tsm_r50_ssv1.py` finds the packaged config
   and, with no Something-Something data, stops with the short preparation
   message (no traceback of ours; mim adds its own);
5. `mim train` / `mim test selfy_mmaction selfy_tsm_r18_motion.py` train one
   epoch on a tiny generated motion set and test the checkpoint.

The fresh venv gets torch as `make install` does (TORCH_SPEC, TORCH_INDEX),
the wheel with its dependencies, and openmim without opendatalab
(requirements/mim.txt).
"""

import argparse
import glob
import os
import os.path as osp
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
import zipfile

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
SSV1 = 'selfy/selfy_imagenet-pretrained-r50_8xb8-1x1x8-50e_sthv1-rgb.py'
TINY_MOTION = [
    f'{loader}.dataset.spec.{key}={value}'
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader')
    for key, value in (('num_train_per_class', 2), ('num_val_per_class', 1))
] + [
    'train_cfg.max_epochs=1',
    'train_dataloader.num_workers=0',
    'val_dataloader.num_workers=0',
    'test_dataloader.num_workers=0',
    'train_dataloader.persistent_workers=False',
    'val_dataloader.persistent_workers=False',
    'test_dataloader.persistent_workers=False',
]

SCRATCH_CONFIG = f"""
_base_ = ['selfy_mmaction::{SSV1}']
model = dict(cls_head=dict(num_classes=10))
"""

SCRATCH_SCRIPT = """
import os.path as osp, sys
import torch
import selfy_mmaction
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample

assert 'site-packages' in selfy_mmaction.__file__, selfy_mmaction.__file__
cfg = Config.fromfile('my_selfy.py')
init_default_scope(cfg.default_scope)
cfg.model.backbone.pretrained = None
cfg.model.backbone.pretrained2d = False
model = MODELS.build(cfg.model).eval()
batch = dict(inputs=[torch.randint(0, 255, (8, 3, 64, 64), dtype=torch.uint8)],
             data_samples=[ActionDataSample().set_gt_label(3)])
with torch.no_grad():
    out = model.test_step(batch)
print(type(model.backbone).__name__, type(model.cls_head).__name__,
      tuple(out[0].pred_score.shape))
"""


class Checks:
    """Counts and prints check outcomes."""

    def __init__(self):
        self.passed = self.failed = 0

    def __call__(self, name, ok, detail=''):
        self.passed += bool(ok)
        self.failed += not ok
        print(
            f'{"PASS" if ok else "FAIL"} {name}'
            + (
                f'\n{textwrap.indent(detail.strip(), "    ")}'
                if detail and not ok
                else ''
            ),
            flush=True,
        )
        return ok


def run(cmd, cwd, env=None, check=True, timeout=1800):
    proc = subprocess.run(
        cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )
    if check and proc.returncode:
        raise SystemExit(
            f'{" ".join(cmd)} failed ({proc.returncode}):\n'
            f'{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}'
        )
    return proc


def source_copy(dst):
    """The files git tracks or would track (no build leftovers)."""
    listed = run(
        [
            'git',
            'ls-files',
            '--cached',
            '--others',
            '--exclude-standard',
            '-z',
        ],
        REPO,
    ).stdout.split('\0')
    for name in filter(None, listed):
        src = osp.join(REPO, name)
        if not osp.lexists(src):
            continue  # deleted in the work tree
        os.makedirs(osp.dirname(osp.join(dst, name)), exist_ok=True)
        shutil.copy2(src, osp.join(dst, name), follow_symlinks=False)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--keep', help='work in DIR and keep it')
    args = parser.parse_args()
    root = args.keep or tempfile.mkdtemp(prefix='selfy_wheel_')
    os.makedirs(root, exist_ok=True)
    check = Checks()
    start = time.perf_counter()
    try:
        src, dist = osp.join(root, 'src'), osp.join(root, 'dist')
        shutil.rmtree(src, ignore_errors=True)
        source_copy(src)
        run(
            [
                sys.executable,
                '-m',
                'pip',
                'wheel',
                '-q',
                '--no-deps',
                '--no-build-isolation',
                '-w',
                dist,
                src,
            ],
            root,
        )
        wheel = glob.glob(osp.join(dist, 'selfy_mmaction-*.whl'))[0]
        names = set(zipfile.ZipFile(wheel).namelist())
        wanted = [
            'selfy_mmaction/.mim/configs/selfy_tsm_r50_ssv1.py',
            f'selfy_mmaction/.mim/configs/{SSV1}',
            'selfy_mmaction/.mim/configs/_base_/default_runtime.py',
            'selfy_mmaction/.mim/tools/train.py',
            'selfy_mmaction/.mim/tools/test.py',
            'selfy_mmaction/.mim/model-index.yml',
        ]
        missing = [n for n in wanted if n not in names]
        missing += (
            [] if any(n.endswith('/LICENSE') for n in names) else ['LICENSE']
        )
        check(
            'wheel carries LICENSE, configs and tools in .mim',
            not missing,
            f'missing: {missing}',
        )

        venv = osp.join(root, 'venv')
        shutil.rmtree(venv, ignore_errors=True)
        base_python = getattr(sys, '_base_executable', sys.executable)
        run([base_python, '-m', 'venv', venv], root)
        py = osp.join(venv, 'bin', 'python')
        torch_index = os.environ.get('TORCH_INDEX')
        run(
            [
                py,
                '-m',
                'pip',
                'install',
                '-q',
                os.environ.get('TORCH_SPEC', 'torch==2.13.0'),
                *(['--index-url', torch_index] if torch_index else []),
            ],
            root,
        )
        run([py, '-m', 'pip', 'install', '-q', wheel], root)
        run(
            [py, '-m', 'pip', 'install', '-q', '--no-deps', 'openmim==0.3.9'],
            root,
        )
        run(
            [
                py,
                '-m',
                'pip',
                'install',
                '-q',
                '-r',
                osp.join(REPO, 'requirements', 'mim.txt'),
            ],
            root,
        )
        print(
            f'fresh venv with the wheel: {time.perf_counter() - start:.0f} s',
            flush=True,
        )

        scratch = osp.join(root, 'scratch')
        shutil.rmtree(scratch, ignore_errors=True)
        os.makedirs(scratch)
        env = dict(
            os.environ,
            OMP_NUM_THREADS='1',
            PYTHONWARNINGS='ignore',
            PATH=osp.join(venv, 'bin')
            + os.pathsep
            + os.environ.get('PATH', ''),
        )
        env.pop('PYTHONPATH', None)
        with open(osp.join(scratch, 'my_selfy.py'), 'w') as f:
            f.write(SCRATCH_CONFIG)
        proc = run([py, '-c', SCRATCH_SCRIPT], scratch, env, check=False)
        check(
            'scratch config inheriting selfy_mmaction:: builds and runs '
            'test_step',
            proc.returncode == 0
            and 'ResNetTSMWithBlocks CheckedTSMHead (10,)' in proc.stdout,
            proc.stdout[-2000:] + proc.stderr[-3000:],
        )

        mim = osp.join(venv, 'bin', 'mim')
        proc = run(
            [
                mim,
                'train',
                'selfy_mmaction',
                'selfy_tsm_r50_ssv1.py',
                '--work-dir',
                'work_ssv1',
            ],
            scratch,
            env,
            check=False,
        )
        out = proc.stdout + proc.stderr
        check(
            'mim train finds the packaged SSv1 config and names the '
            'missing data and its preparation command',
            proc.returncode != 0
            and 'we find the config file in codebase selfy_mmaction' in out
            and 'prepare_dataset.py sthv1' in out
            and 'selfy_mmaction/datasets' not in out,  # no traceback of ours
            out[-3000:],
        )

        proc = run(
            [
                mim,
                'train',
                'selfy_mmaction',
                'selfy_tsm_r18_motion.py',
                '--work-dir',
                'work_motion',
                '--cfg-options',
                *TINY_MOTION,
            ],
            scratch,
            env,
            check=False,
        )
        ckpt = osp.join(scratch, 'work_motion', 'epoch_1.pth')
        check(
            'mim train selfy_mmaction selfy_tsm_r18_motion.py trains '
            '(1 epoch, tiny generated set)',
            proc.returncode == 0 and osp.exists(ckpt),
            proc.stdout[-3000:] + proc.stderr[-3000:],
        )
        proc = run(
            [
                mim,
                'test',
                'selfy_mmaction',
                'selfy_tsm_r18_motion.py',
                '--checkpoint',
                ckpt,
                '--work-dir',
                'work_motion_test',
                '--cfg-options',
                *TINY_MOTION,
            ],
            scratch,
            env,
            check=False,
        )
        check(
            'mim test selfy_mmaction selfy_tsm_r18_motion.py evaluates '
            'the checkpoint',
            proc.returncode == 0 and 'acc/top1' in proc.stdout + proc.stderr,
            proc.stdout[-3000:] + proc.stderr[-3000:],
        )
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    print(f'({time.perf_counter() - start:.0f} s)')
    print(f'wheel-check: {check.passed} passed, {check.failed} failed')
    return 1 if check.failed else 0


if __name__ == '__main__':
    sys.exit(main())
