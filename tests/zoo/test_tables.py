"""selfy_mmaction.zoo.tables: README zoo tables rendered from the
metafiles (the command line: tests/tools/test_zoo_tables.py)."""

import os.path as osp

import pytest
import yaml

from selfy_mmaction.zoo import tables as zoo_tables

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
README = osp.join(REPO, 'README.md')


def _model(name, collection, dataset, top1, weights='zoo/w.pth'):
    return {
        'Name': name,
        'Config': f'configs/x/{name}.py',
        'In Collection': collection,
        'Metadata': {
            'FLOPs': '0.786G',
            'Parameters': '11.18M',
            'Resolution': '48x48',
        },
        'Results': [
            {
                'Dataset': dataset,
                'Task': 'Action Recognition',
                'Metrics': {'Top 1 Accuracy': top1, 'Top 5 Accuracy': 100.0},
            }
        ],
        'Training Log': 'zoo/w.log',
        'Weights': weights,
    }


def _repo(tmp_path, models_by_family, readme_body='old table'):
    for family, models in models_by_family.items():
        path = tmp_path / 'configs' / family / 'metafile.yml'
        path.parent.mkdir(parents=True)
        path.write_text(
            yaml.safe_dump(
                {
                    'Collections': [{'Name': models[0]['In Collection']}],
                    'Models': models,
                }
            )
        )
    readme = tmp_path / 'README.md'
    readme.write_text(
        f'# Title\n\ntext\n{zoo_tables.BEGIN}\n{readme_body}\n'
        f'{zoo_tables.END}\nafter\n'
    )
    return readme


def test_real_readme_is_up_to_date():
    with open(README) as f:
        text = f.read()
    if zoo_tables.BEGIN not in text and zoo_tables.END not in text:
        pytest.skip(
            f'README.md has no {zoo_tables.BEGIN} / '
            f'{zoo_tables.END} markers yet (the lead adds them and '
            'runs python tools/zoo_tables.py --write)'
        )
    diff = zoo_tables.check(README, REPO)
    assert diff == '', (
        'README.md drifts from configs/**/metafile.yml; run '
        'python tools/zoo_tables.py --write\n' + diff
    )


def test_tables_per_dataset_sorted_with_links(tmp_path):
    readme = _repo(
        tmp_path,
        {
            'tsm': [
                _model('tsm_b', 'TSM', 'Motion', 80.0),
                _model('tsm_a', 'TSM', 'SthV1', 45.5),
            ],
            'selfy': [
                _model(
                    'selfy_a',
                    'SELFY-TSM',
                    'Motion',
                    76.0,
                    'https://host/selfy_a.pth',
                )
            ],
        },
    )
    assert zoo_tables.write(str(readme), str(tmp_path))
    text = readme.read_text()
    assert text.startswith('# Title\n\ntext\n') and text.endswith(
        f'{zoo_tables.END}\nafter\n'
    )
    assert 'old table' not in text
    motion = text.index('**Motion**')
    sthv1 = text.index('**SthV1**')
    assert motion < sthv1  # the motion table first
    selfy_row = (
        '| SELFY-TSM | [selfy_a](configs/x/selfy_a.py) | 76.00 | '
        '100.00 | 0.786 | 11.18 M | 48x48 | '
        '[ckpt](https://host/selfy_a.pth) | `zoo/w.log` (local) |'
    )
    assert selfy_row in text
    assert text.index(selfy_row) < text.index('[tsm_b]') < sthv1
    assert sthv1 < text.index('| 45.50 |')
    # up to date now
    assert zoo_tables.check(str(readme), str(tmp_path)) == ''
    assert not zoo_tables.write(str(readme), str(tmp_path))


def test_local_files_are_never_links(tmp_path):
    """A metafile path that is not a URL (a git-ignored ``zoo/`` file that a
    clone does not have) renders as plain text with the note saying where it
    comes from; URLs render as links; the note goes once all are URLs."""
    local = _model('tsm_a', 'TSM', 'Motion', 80.0)
    text = zoo_tables.render([local])
    row = [line for line in text.splitlines() if '[tsm_a]' in line][0]
    assert row.endswith('| `zoo/w.pth` (local) | `zoo/w.log` (local) |')
    assert '](zoo/' not in text
    assert text.count(zoo_tables.LOCAL_NOTE) == 1
    assert 'tools/publish_model.py' in zoo_tables.LOCAL_NOTE
    uploaded = dict(
        local,
        Weights='https://host/w.pth',
        **{'Training Log': 'https://host/w.log'},
    )
    text = zoo_tables.render([uploaded])
    assert text.splitlines()[-1].endswith(
        '| [ckpt](https://host/w.pth) | [log](https://host/w.log) |'
    )
    assert zoo_tables.LOCAL_NOTE not in text
    # one local file among URLs still gets the note; a missing entry is '-'
    text = zoo_tables.render(
        [uploaded, dict(local, Name='tsm_b', **{'Training Log': None})]
    )
    assert text.count(zoo_tables.LOCAL_NOTE) == 1
    assert '| `zoo/w.pth` (local) | - |' in text
    assert not zoo_tables.is_url('zoo/w.pth')
    assert zoo_tables.is_url('s3://bucket/w.pth')


def test_missing_markers_are_named(tmp_path):
    readme = _repo(tmp_path, {})
    readme.write_text('# no markers\n')
    with pytest.raises(
        zoo_tables.MarkersMissing, match='found 0 begin and 0 end marker'
    ):
        zoo_tables.check(str(readme), str(tmp_path))
    readme.write_text(f'{zoo_tables.END}\n{zoo_tables.BEGIN}\n')
    with pytest.raises(zoo_tables.MarkersMissing, match='end before begin'):
        zoo_tables.check(str(readme), str(tmp_path))


def test_entry_without_results_is_named(tmp_path):
    path = tmp_path / 'configs' / 'bad' / 'metafile.yml'
    path.parent.mkdir(parents=True)
    path.write_text(
        yaml.safe_dump({'Models': [{'Name': 'm', 'Config': 'c.py'}]})
    )
    with pytest.raises(ValueError, match="'m' has no 'Results'"):
        zoo_tables.load_models(str(tmp_path))
