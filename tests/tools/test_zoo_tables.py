"""tools/zoo_tables.py: the command line (exit codes, diff, messages); the
rendering is tested in tests/zoo/test_tables.py."""

import importlib.util
import os.path as osp

import yaml

from selfy_mmaction.zoo.tables import BEGIN, END

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
_spec = importlib.util.spec_from_file_location(
    'zoo_tables_cli', osp.join(REPO, 'tools', 'zoo_tables.py')
)
zoo_tables = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(zoo_tables)


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
        f'# Title\n\ntext\n{BEGIN}\n{readme_body}\n{END}\nafter\n'
    )
    return readme


def test_check_reports_drift_with_a_diff(tmp_path, capsys):
    readme = _repo(tmp_path, {'tsm': [_model('tsm_a', 'TSM', 'Motion', 80.0)]})
    zoo_tables.main(['--write', str(readme), '--repo-root', str(tmp_path)])
    path = tmp_path / 'configs' / 'tsm' / 'metafile.yml'
    data = yaml.safe_load(path.read_text())
    data['Models'][0]['Results'][0]['Metrics']['Top 1 Accuracy'] = 81.25
    path.write_text(yaml.safe_dump(data))
    capsys.readouterr()
    assert (
        zoo_tables.main(
            ['--check', '--readme', str(readme), '--repo-root', str(tmp_path)]
        )
        == 1
    )
    out = capsys.readouterr().out
    assert '-| TSM | [tsm_a]' in out and '| 80.00 |' in out
    assert '+| TSM | [tsm_a]' in out and '| 81.25 |' in out


def test_no_metafile_and_missing_markers(tmp_path, capsys):
    readme = _repo(tmp_path, {})
    assert (
        zoo_tables.main(['--write', str(readme), '--repo-root', str(tmp_path)])
        == 0
    )
    assert 'No model has been published yet' in readme.read_text()
    readme.write_text('# no markers\n')
    assert (
        zoo_tables.main(
            ['--check', '--readme', str(readme), '--repo-root', str(tmp_path)]
        )
        == 2
    )
    assert 'found 0 begin and 0 end marker(s)' in capsys.readouterr().err
