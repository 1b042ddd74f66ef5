from setuptools import find_packages, setup


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
    python_requires='>=3.9',
    install_requires=[
        # torch: any >= 2.1 (CUDA or CPU); pinned to the local CPU wheel by
        # requirements/cpu.txt so pip never pulls a CUDA build here.
        'torch>=2.1',
        'mmengine==0.10.7',
        'mmcv-lite>=2.0.0rc4,<2.2',
        'mmaction2==1.2.0',
        'decord>=0.6.0',
        'importlib_metadata',
        'setuptools<82',
        'opencv-python-headless',
        'numpy',
        'matplotlib',
    ],
    extras_require={
        'tests': ['pytest', 'onnx', 'onnxruntime'],
    },
    license='Apache-2.0',
)
