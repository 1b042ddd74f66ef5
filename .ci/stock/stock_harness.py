"""pytest plugin for running MMAction2 v1.2.0's own tests against the
installed wheel, with or without ``selfy_mmaction`` imported.

Loaded by ``.ci/stock/compare.py`` as ``-p stock_harness``. The same test
scaffolding is set up in both runs:

- the installed mmaction2 1.2.0 wheel lacks ``mmaction/models/localizers/drn``
  (docs/stack.md, import-time change 1), so ``import mmaction.models`` fails before any test runs; a
  stand-in module is put in ``sys.modules`` when, and only when, it is
  missing;
- ``mmaction.testing.get_cfg`` looks for configs beside the installed package,
  where the wheel has none; it is pointed at the configs of the stock source
  tree (``--stock-configs``).

With ``SELFY_IMPORT=1`` the plugin is imported before any test module, the
way a config's ``custom_imports`` would import it.
"""

import importlib.util
import os
import os.path as osp
import sys
import types

import mmengine


def _stand_in_for_missing_drn():
    spec = importlib.util.find_spec('mmaction')
    drn_dir = osp.join(osp.dirname(spec.origin), 'models', 'localizers', 'drn')
    name = 'mmaction.models.localizers.drn'
    if osp.isdir(drn_dir) or name in sys.modules:
        return
    package = types.ModuleType(name)
    package.__path__ = []
    module = types.ModuleType(name + '.drn')
    module.DRN = type('DRN', (), {})
    package.drn = module
    sys.modules.update({name: package, name + '.drn': module})


def pytest_addoption(parser):
    parser.addoption(
        '--stock-configs',
        required=True,
        help='configs/ of the MMAction2 v1.2.0 source tree',
    )


def pytest_configure(config):
    _stand_in_for_missing_drn()
    configs = osp.abspath(config.getoption('--stock-configs'))

    def get_cfg(config_type, fname):
        return mmengine.Config.fromfile(osp.join(configs, config_type, fname))

    import mmaction.testing
    import mmaction.testing._utils

    mmaction.testing.get_cfg = get_cfg
    mmaction.testing._utils.get_cfg = get_cfg
    if os.environ.get('SELFY_IMPORT') == '1':
        import selfy_mmaction  # noqa: F401
