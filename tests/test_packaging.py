"""The wheel and the sdist carry the Apache-2.0 text of ``LICENSE``.

Both are built from a copy of the packaging files and the package in a
temporary folder (setuptools' ``build/`` folder would otherwise be shared
with the working tree and could hold stale modules), without network and
without build isolation (the venv's setuptools)."""

import os.path as osp
import shutil
import subprocess
import sys
import tarfile
import zipfile

import pytest

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
#: What ``setup.py`` needs besides the package (those that exist are copied);
#: configs, tools and model-index.yml go into the package's ``.mim``.
PACKAGING_FILES = (
    'setup.py',
    'setup.cfg',
    'pyproject.toml',
    'MANIFEST.in',
    'README.md',
    'LICENSE',
    'requirements',
    'configs',
    'tools',
    'model-index.yml',
)


def _license_text():
    with open(osp.join(REPO, 'LICENSE'), 'rb') as f:
        return f.read()


def _version():
    scope = {}
    with open(osp.join(REPO, 'selfy_mmaction', 'version.py')) as f:
        exec(f.read(), scope)
    return scope['__version__']


@pytest.fixture(scope='module')
def source(tmp_path_factory):
    """A copy of the packaging files and ``selfy_mmaction/``."""
    root = tmp_path_factory.mktemp('source')
    for name in PACKAGING_FILES:
        path = osp.join(REPO, name)
        if osp.isdir(path):
            shutil.copytree(
                path,
                root / name,
                ignore=shutil.ignore_patterns('__pycache__', '*.pyc'),
            )
        elif osp.isfile(path):
            shutil.copy(path, root / name)
    shutil.copytree(
        osp.join(REPO, 'selfy_mmaction'),
        root / 'selfy_mmaction',
        symlinks=True,  # .mim/ links to configs/ and tools/
        ignore=shutil.ignore_patterns('__pycache__', '*.pyc'),
    )
    return root


def _run(args, cwd):
    proc = subprocess.run(
        args, cwd=cwd, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]


def test_license_is_the_apache_2_text():
    text = _license_text().decode()
    assert 'Apache License' in text and 'Version 2.0, January 2004' in text
    assert 'END OF TERMS AND CONDITIONS' in text
    assert 'Copyright 2026 selfy-mmaction contributors' in text


def test_wheel_ships_the_license(source, tmp_path):
    _run(
        [
            sys.executable,
            '-m',
            'pip',
            'wheel',
            '--no-deps',
            '--no-build-isolation',
            '--no-index',
            '-q',
            '-w',
            str(tmp_path),
            str(source),
        ],
        cwd=source,
    )
    (wheel,) = tmp_path.glob('selfy_mmaction-*.whl')
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        dist_info = f'selfy_mmaction-{_version()}.dist-info'
        licenses = [
            n
            for n in names
            if n.startswith(dist_info) and osp.basename(n) == 'LICENSE'
        ]
        assert licenses, f'no LICENSE in {dist_info}/: {names}'
        assert z.read(licenses[0]) == _license_text()
        metadata = z.read(f'{dist_info}/METADATA').decode()
    assert 'License-File: LICENSE' in metadata
    assert any(
        line in metadata.splitlines()
        for line in ('License: Apache-2.0', 'License-Expression: Apache-2.0')
    )


def test_sdist_ships_the_license(source, tmp_path):
    _run(
        [sys.executable, 'setup.py', '-q', 'sdist', '-d', str(tmp_path)],
        cwd=source,
    )
    (sdist,) = tmp_path.glob('selfy_mmaction-*.tar.gz')
    with tarfile.open(sdist) as tar:
        member = f'selfy_mmaction-{_version()}/LICENSE'
        assert member in tar.getnames()
        assert tar.extractfile(member).read() == _license_text()
