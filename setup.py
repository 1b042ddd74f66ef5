import os
import os.path as osp
import shutil

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

#: What a built package carries under selfy_mmaction/.mim, the place
#: OpenMMLab tools look: `_base_ = 'selfy_mmaction::<folder>/<file>.py'`
#: (MMEngine), `mim train/test selfy_mmaction <config>` (configs and tools).
#: In the source tree selfy_mmaction/.mim holds symlinks to them, so an
#: editable install sees the same.
MIM_FILES = ('configs', 'tools', 'model-index.yml')


class BuildWithMimFiles(build_py):
    """build_py that also copies MIM_FILES into the built package."""

    def run(self):
        super().run()
        target = osp.join(self.build_lib, 'selfy_mmaction', '.mim')
        for name in MIM_FILES:
            dst = osp.join(target, name)
            if osp.isdir(dst) and not osp.islink(dst):
                shutil.rmtree(dst)
            elif osp.lexists(dst):
                os.remove(dst)
            os.makedirs(target, exist_ok=True)
            if osp.isdir(name):
                shutil.copytree(
                    name,
                    dst,
                    ignore=shutil.ignore_patterns('__pycache__', '*.pyc'),
                )
            else:
                shutil.copyfile(name, dst)


def readme():
    with open('README.md', encoding='utf-8') as f:
        return f.read()


def version():
    scope = {}
    with open('selfy_mmaction/version.py', encoding='utf-8') as f:
        exec(f.read(), scope)
    return scope['__version__']


setup(
    name='selfy-mmaction',
    version=version(),
    description='SELFY (spatio-temporal self-similarity) and a zoo of motion '
    'modules as an MMAction2 plugin',
    long_description=readme(),
    long_description_content_type='text/markdown',
    packages=find_packages(include=['selfy_mmaction', 'selfy_mmaction.*']),
    cmdclass=dict(build_py=BuildWithMimFiles),
    python_requires='>=3.9',
    install_requires=[
        # torch: any >= 2.1, CUDA or CPU build; install the build you want
        # first (README: Install), pip then keeps it.
        'torch>=2.1',
        'mmengine==0.10.7',
        'mmcv-lite>=2.0.0rc4,<2.2',
        'mmaction2==1.2.0',
        'decord>=0.6.0',
        'importlib_metadata',  # imported by mmaction2, not declared by it
        'setuptools<82',  # pkg_resources, for mmengine's `mmaction::` bases
        'numpy',
        'matplotlib',
        # the distribution mmengine and mmcv-lite require (a second one,
        # e.g. -headless, would install another copy of cv2)
        'opencv-python',
    ],
    extras_require={
        'tests': ['pytest', 'onnx', 'onnxruntime'],
        # `make lint` and .pre-commit-config.yaml
        'dev': ['ruff==0.17.6', 'codespell==2.4.3', 'mypy==2.4.1'],
        # openmim's requirements without opendatalab (README: mim)
        'mim': [
            'click',
            'colorama',
            'model-index',
            'pandas',
            'requests',
            'rich',
            'tabulate',
        ],
    },
    license='Apache-2.0',
)
