"""tools/publish_model.py: a tiny trained run published end to end (file
name = hash, stripped contents, metafile schema, measured metrics,
idempotence, model-index, weights-only loading) through the command line;
its pieces are tested in tests/zoo/test_publish.py."""

import hashlib
import importlib.util
import os
import os.path as osp
import re

import pytest
import torch
import yaml
from mmengine.config import Config

from selfy_mmaction.version import __version__
from selfy_mmaction.zoo import tables as zoo_tables
from selfy_mmaction.zoo.publish import KEPT_META, PublishError

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
_spec = importlib.util.spec_from_file_location(
    'publish_model_cli', osp.join(REPO, 'tools', 'publish_model.py')
)
publish_model = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(publish_model)

STEM = 'tsm_r18_1x1x8-4e_motion-rgb'
TSN_MOTION = osp.join(REPO, 'configs', 'tsn', 'tsn_r18_1x1x8-4e_motion-rgb.py')


def _read(path):
    with open(path, 'rb') as f:
        return f.read()


def _metafile(root, family='tsm'):
    with open(osp.join(root, 'configs', family, 'metafile.yml')) as f:
        return yaml.safe_load(f)


class _NoAllowlist:
    """``torch.load(weights_only=True)`` with no extra allowed globals (our
    package adds MMEngine's HistoryBuffer & co. on import)."""

    def __enter__(self):
        self.saved = torch.serialization.get_safe_globals()
        torch.serialization.clear_safe_globals()

    def __exit__(self, *exc):
        torch.serialization.add_safe_globals(self.saved)


def test_file_is_named_by_date_and_sha256(published_tsm):
    name = osp.basename(published_tsm['weights'])
    match = re.fullmatch(
        rf'{re.escape(STEM)}_(\d{{8}})-([0-9a-f]{{8}})\.pth', name
    )
    assert match, name
    digest = hashlib.sha256(_read(published_tsm['weights'])).hexdigest()
    assert match.group(2) == digest[:8]
    assert osp.dirname(published_tsm['weights']) == osp.join(
        published_tsm['root'], 'zoo'
    )


def test_published_file_holds_weights_and_plain_meta_only(published_tsm):
    with _NoAllowlist():
        published = torch.load(published_tsm['weights'], weights_only=True)
        # the training checkpoint needs the allowlist (message hub): the
        # check above can fail
        with pytest.raises(Exception, match='HistoryBuffer|global'):
            torch.load(published_tsm['checkpoint'], weights_only=True)
    assert set(published) == {'meta', 'state_dict'}
    assert set(published['meta']) <= set(KEPT_META)
    assert published['meta']['epoch'] == 1
    # training did not record the package version: the installed one is
    assert published['meta']['selfy_mmaction_version'] == __version__
    original = torch.load(published_tsm['checkpoint'], weights_only=True)
    assert {'optimizer', 'message_hub'} <= set(original)
    assert list(published['state_dict']) == list(original['state_dict'])
    for key, value in original['state_dict'].items():
        assert torch.equal(published['state_dict'][key], value), key


def test_metafile_has_mmaction2_schema(published_tsm):
    root, entry = published_tsm['root'], published_tsm['entry']
    data = _metafile(root)
    (collection,) = data['Collections']
    assert collection['Name'] == 'TSM' and collection['Paper']['URL']
    (model,) = data['Models']
    assert model == entry
    assert model['Name'] == STEM
    assert model['Config'] == f'configs/tsm/{STEM}.py'
    assert model['In Collection'] == 'TSM'
    meta = model['Metadata']
    assert set(meta) == {
        'Architecture',
        'Batch Size',
        'Epochs',
        'FLOPs',
        'Parameters',
        'Pretrained',
        'Resolution',
        'Training Data',
        'Training Resources',
        'selfy-mmaction Version',
        'Weights License',
    }
    assert meta['selfy-mmaction Version'] == __version__
    assert meta['Weights License'] == 'Apache-2.0'
    assert meta['Architecture'] == 'ResNet18'
    assert meta['Batch Size'] == 4 and meta['Epochs'] == 1
    assert meta['Pretrained'] == 'None'
    assert meta['Resolution'] == '48x48'
    assert meta['Training Data'] == 'Motion'
    assert meta['Training Resources'] == '1 CPU process'
    assert model['Modality'] == 'RGB'
    (result,) = model['Results']
    assert result['Dataset'] == 'Motion'
    assert result['Task'] == 'Action Recognition'
    assert set(result['Metrics']) == {'Top 1 Accuracy', 'Top 5 Accuracy'}
    for path in (model['Config'], model['Weights'], model['Training Log']):
        assert not osp.isabs(path) and osp.isfile(osp.join(root, path)), path
    log = _read(osp.join(root, model['Training Log'])).decode()
    assert 'Epoch(train)' in log
    # FLOPs and params: get_flops at the test input (8 frames of 48x48)
    from selfy_mmaction.analysis.complexity import complexity

    ref = complexity(
        Config.fromfile(published_tsm['config']), (1, 8, 3, 48, 48)
    )
    assert meta['FLOPs'] == f'{ref["total"] / 1e9:.3f}G'
    assert meta['Parameters'] == f'{ref["params"] / 1e6:.2f}M'


def test_metrics_equal_a_separate_evaluation(published_tsm):
    """tools/test.py's path (Runner + load_from) on the training
    checkpoint gives the metafile's numbers."""
    from selfy_mmaction.engine import build_runner

    cfg = Config.fromfile(published_tsm['tiny_config'])
    cfg.work_dir = osp.join(published_tsm['work_dir'], 'separate_test')
    cfg.load_from = published_tsm['checkpoint']
    cfg.experiment_name = 'separate_test'
    metrics = build_runner(cfg).test()
    (result,) = published_tsm['entry']['Results']
    assert result['Metrics']['Top 1 Accuracy'] == round(
        100 * float(metrics['acc/top1']), 2
    )
    assert result['Metrics']['Top 5 Accuracy'] == round(
        100 * float(metrics['acc/top5']), 2
    )


def test_model_index_imports_every_metafile(published_tsm):
    root = published_tsm['root']
    with open(osp.join(root, 'model-index.yml')) as f:
        index = yaml.safe_load(f)
    assert index == {'Import': ['configs/tsm/metafile.yml']}


def test_published_checkpoint_loads_with_init_recognizer_weights_only(
    published_tsm,
):
    from mmaction.apis import init_recognizer

    calls = []
    real_load = torch.load

    def spy(*args, **kwargs):
        calls.append(kwargs.get('weights_only'))
        return real_load(*args, **kwargs)

    torch.load = spy
    try:
        with _NoAllowlist():
            model = init_recognizer(
                published_tsm['config'], published_tsm['weights'], device='cpu'
            )
    finally:
        torch.load = real_load
    assert calls and all(w in (None, True) for w in calls)  # default: True
    published = torch.load(published_tsm['weights'], weights_only=True)
    state = model.state_dict()
    for key, value in published['state_dict'].items():
        assert torch.equal(state[key], value), key


def test_republishing_is_idempotent_and_url_prefix_replaces_paths(
    published_tsm,
):
    root, work_dir = published_tsm['root'], published_tsm['work_dir']
    args = [work_dir, '--config', published_tsm['config'], '--repo-root', root]
    files = ['model-index.yml', 'configs/tsm/metafile.yml']
    before = {f: _read(osp.join(root, f)) for f in files}
    zoo = sorted(os.listdir(osp.join(root, 'zoo')))
    entry = publish_model.main(args)
    assert entry == published_tsm['entry']
    assert {f: _read(osp.join(root, f)) for f in files} == before
    assert sorted(os.listdir(osp.join(root, 'zoo'))) == zoo

    url = 'https://example.org/zoo/tsm'
    entry = publish_model.main(
        args + ['--url-prefix', url + '/', '--license', 'CC-BY-4.0']
    )
    name = osp.basename(published_tsm['weights'])
    assert entry['Weights'] == f'{url}/{name}'
    assert entry['Metadata']['Weights License'] == 'CC-BY-4.0'
    assert entry['Training Log'] == f'{url}/{name[:-4]}.log'
    (model,) = _metafile(root)['Models']  # replaced, not added
    assert model['Weights'] == entry['Weights']
    assert sorted(os.listdir(osp.join(root, 'zoo'))) == zoo
    publish_model.main(args)  # back to local paths for the other tests
    assert {f: _read(osp.join(root, f)) for f in files} == before


def test_a_config_of_another_model_is_refused(published_tsm, tmp_path):
    config = tmp_path / 'configs' / 'tsn' / osp.basename(TSN_MOTION)
    config.parent.mkdir(parents=True)
    config.write_text(f'_base_ = [{TSN_MOTION!r}]\n')
    with pytest.raises(
        PublishError, match='does not build the model.*backbone'
    ):
        publish_model.main(
            [
                published_tsm['work_dir'],
                '--config',
                str(config),
                '--repo-root',
                str(tmp_path),
            ]
        )
    assert not (tmp_path / 'zoo').exists()


def test_metafile_entry_renders_in_the_zoo_table(published_tsm):
    """The version and license keys leave the README table as it was."""
    entry = published_tsm['entry']
    plain = dict(
        entry,
        Metadata={
            k: v
            for k, v in entry['Metadata'].items()
            if k not in ('selfy-mmaction Version', 'Weights License')
        },
    )
    assert zoo_tables.render([entry]) == zoo_tables.render([plain])
    assert f'[{STEM}](configs/tsm/{STEM}.py)' in zoo_tables.render([entry])
