import os.path as osp

import pytest
import torch

import selfy_mmaction  # noqa: F401  (registers modules)

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
SHARED_DATA = osp.join(
    osp.dirname(REPO), 'shared', 'data', 'mmaction2-testdata'
)


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)
    yield


@pytest.fixture
def testdata_dir():
    if not osp.isdir(SHARED_DATA):
        pytest.skip(
            f"needs MMAction2's small test videos in {SHARED_DATA} "
            f'(the ../shared folder beside the checkout; CI has it)'
        )
    return SHARED_DATA
