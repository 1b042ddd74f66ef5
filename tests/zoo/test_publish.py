"""selfy_mmaction.zoo.publish, piece by piece: checkpoint lookup, stripping,
hash naming, cleanup of replaced files, version and paper records (a run
published end to end: tests/tools/test_publish_model.py)."""

import os.path as osp
import subprocess

import pytest
import torch
import yaml

from selfy_mmaction.version import __version__
from selfy_mmaction.zoo import publish as publish_model

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def test_out_dir_tracked_by_git_is_refused(tmp_path):
    subprocess.run(['git', 'init', '-q', str(tmp_path)], check=True)
    (tmp_path / '.gitignore').write_text('/zoo/\n')
    publish_model._ensure_ignored(str(tmp_path / 'zoo'), str(tmp_path))
    with pytest.raises(publish_model.PublishError, match='not ignored'):
        publish_model._ensure_ignored(str(tmp_path / 'weights'), str(tmp_path))


def test_checkpoint_lookup(tmp_path):
    for name in ('epoch_2.pth', 'epoch_10.pth', 'iter_99.pth'):
        (tmp_path / name).write_bytes(b'x')
    assert publish_model.find_checkpoint(str(tmp_path)).endswith(
        'epoch_10.pth'
    )
    # a work dir moved after training: last_checkpoint names the old place
    (tmp_path / 'last_checkpoint').write_text('/elsewhere/work/epoch_2.pth')
    assert publish_model.find_checkpoint(str(tmp_path)) == str(
        tmp_path / 'epoch_2.pth'
    )
    empty = tmp_path / 'empty'
    empty.mkdir()
    with pytest.raises(publish_model.PublishError, match='no checkpoint'):
        publish_model.find_checkpoint(str(empty))


def test_published_name_keeps_the_date_of_the_same_weights():
    digest = 'ab' * 32
    assert (
        publish_model.published_name('m', digest, None, today='20260102')
        == 'm_20260102-abababab.pth'
    )
    assert (
        publish_model.published_name(
            'm', digest, 'zoo/m_20250101-abababab.pth', today='20260102'
        )
        == 'm_20250101-abababab.pth'
    )
    assert (
        publish_model.published_name(
            'm', digest, 'zoo/m_20250101-cdcdcdcd.pth', today='20260102'
        )
        == 'm_20260102-abababab.pth'
    )


def test_strip_removes_ddp_prefix_and_keeps_plain_meta():
    ckpt = dict(
        meta=dict(epoch=3, cfg='x = 1', hook_msgs=dict(a=1)),
        state_dict={'module.w': torch.ones(2, 3).t()},
        optimizer=dict(state={}),
    )
    out = publish_model.strip_checkpoint(ckpt)
    assert out['meta'] == dict(epoch=3, cfg='x = 1')
    assert list(out['state_dict']) == ['w']
    assert out['state_dict']['w'].is_contiguous()
    data = publish_model.checkpoint_bytes(out)
    assert data == publish_model.checkpoint_bytes(
        publish_model.strip_checkpoint(ckpt)
    )  # deterministic bytes


def test_replaced_version_files_are_removed_unless_referenced(tmp_path):
    zoo = tmp_path / 'zoo'
    zoo.mkdir()
    for name in ('m_1-aaaaaaaa', 'm_2-bbbbbbbb', 'other'):
        for ext in ('.pth', '.log', '.json'):
            (zoo / (name + ext)).write_text('x')
    meta = tmp_path / 'configs' / 'f' / 'metafile.yml'
    meta.parent.mkdir(parents=True)
    meta.write_text(
        yaml.safe_dump(
            {
                'Models': [
                    {
                        'Name': 'm',
                        'Weights': 'zoo/m_2-bbbbbbbb.pth',
                        'Training Log': 'zoo/m_2-bbbbbbbb.log',
                    },
                    {'Name': 'n', 'Weights': 'https://host/other.pth'},
                ]
            }
        )
    )
    previous = {
        'Name': 'm',
        'Weights': 'zoo/m_1-aaaaaaaa.pth',
        'Training Log': 'zoo/m_1-aaaaaaaa.log',
    }
    publish_model._remove_unreferenced(
        previous, str(tmp_path), str(zoo), keep=['zoo/m_2-bbbbbbbb.pth']
    )
    assert sorted(p.name for p in zoo.iterdir()) == sorted(
        n + e
        for n in ('m_2-bbbbbbbb', 'other')
        for e in ('.pth', '.log', '.json')
    )
    # the same file name behind a URL counts as referenced
    publish_model._remove_unreferenced(
        {'Weights': 'zoo/other.pth'}, str(tmp_path), str(zoo), keep=[]
    )
    assert (zoo / 'other.pth').exists()


def test_version_recorded_by_training_is_kept(capsys):
    published = {'meta': {'selfy_mmaction_version': '0.0.9'}, 'state_dict': {}}
    assert publish_model.record_version(published) == '0.0.9'
    assert 'warning' not in capsys.readouterr().out
    published = {'state_dict': {}}
    assert publish_model.record_version(published) == __version__
    assert published['meta'] == {'selfy_mmaction_version': __version__}
    assert (
        'does not record the selfy-mmaction version' in capsys.readouterr().out
    )


def test_new_collection_takes_its_paper_from_the_family_readme(tmp_path):
    readme = tmp_path / 'README.md'
    readme.write_text(
        '# X\n\n[A Paper: Title](https://arxiv.org/abs/1)\n\n'
        '<!-- [ALGORITHM] -->\n\n[other](https://x.org)\n'
    )
    assert publish_model.readme_paper(str(readme)) == {
        'URL': 'https://arxiv.org/abs/1',
        'Title': 'A Paper: Title',
    }
    readme.write_text('# X\n\n<!-- [ALGORITHM] -->\n[late](https://x.org)\n')
    assert publish_model.readme_paper(str(readme)) is None
    assert publish_model.readme_paper(str(tmp_path / 'missing.md')) is None
    # the real family READMEs name the papers of the published collections
    for family, collection in (
        ('tsm', 'TSM'),
        ('tsn', 'TSN'),
        ('selfy', 'SELFY-TSM'),
    ):
        paper = publish_model.readme_paper(
            osp.join(REPO, 'configs', family, 'README.md')
        )
        assert paper == publish_model.PAPERS[collection], family
