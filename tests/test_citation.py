"""Citation and model-zoo documentation: CITATION.cff (CFF 1.2.0 structure),
one README with the paper's BibTeX per model family in ``configs/``, the
metafiles pointing at those READMEs and agreeing with their result tables,
and every published entry recording the package version and the weights'
license."""

import glob
import os.path as osp
import re

import pytest
import yaml

from selfy_mmaction.version import __version__

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
#: Folders of ``configs/`` that are not a model family.
NOT_FAMILIES = {'_base_', 'motion'}
CFF_PERSON_KEYS = {'family-names', 'given-names', 'name'}


def _families():
    return sorted(
        osp.basename(d)
        for d in glob.glob(osp.join(REPO, 'configs', '*'))
        if osp.isdir(d) and osp.basename(d) not in NOT_FAMILIES
    )


def _metafiles():
    return sorted(
        glob.glob(
            osp.join(REPO, 'configs', '**', 'metafile.yml'), recursive=True
        )
    )


def _read(path):
    with open(path, encoding='utf-8') as f:
        return f.read()


def _bibtex_entries(text):
    """The entries of the ```BibTeX blocks of a markdown text."""
    blocks = re.findall(r'```BibTeX\n(.*?)```', text, flags=re.S)
    return [
        e for block in blocks for e in re.split(r'\n(?=@)', block.strip()) if e
    ]


def _check_bibtex(entry, where):
    assert re.match(
        r'@(inproceedings|article|misc)\{[\w:-]+,\n', entry, flags=re.I
    ), f'{where}: bad entry head: {entry[:60]!r}'
    fields = dict(
        re.findall(r'^\s*(\w+)\s*=\s*\{(.*)\},?\s*$', entry, flags=re.M)
    )
    for key in ('title', 'author', 'year'):
        assert fields.get(key), f'{where}: BibTeX entry without {key}'
    assert re.fullmatch(r'(19|20)\d\d', fields['year']), where
    assert entry.count('{') == entry.count('}'), f'{where}: unbalanced braces'
    assert entry.rstrip().endswith('}'), where
    venue = {'booktitle', 'journal'} & set(fields)
    assert venue, f'{where}: BibTeX entry without booktitle or journal'
    return fields


def test_citation_cff_has_the_cff_1_2_structure():
    with open(osp.join(REPO, 'CITATION.cff')) as f:
        cff = yaml.safe_load(f)
    for key in ('cff-version', 'message', 'title', 'authors'):
        assert cff.get(key), f'CITATION.cff: {key} is required'
    assert cff['cff-version'] == '1.2.0'
    assert cff['version'] == __version__, 'bump CITATION.cff with version.py'
    assert cff['license'] == 'Apache-2.0'
    for person in cff['authors']:
        assert set(person) & CFF_PERSON_KEYS, person
    paper = cff['preferred-citation']
    assert paper['type'] == 'conference-paper'
    assert paper['title'].startswith(
        'Learning Self-Similarity in Space and Time as Generalized Motion'
    )
    assert [a['family-names'] for a in paper['authors']] == [
        'Kwon',
        'Kim',
        'Kwak',
        'Cho',
    ]
    assert paper['year'] == 2021 and (paper['start'], paper['end']) == (
        13065,
        13075,
    )
    for ref in cff.get('references', []):
        assert {'type', 'title', 'authors'} <= set(ref), ref


@pytest.mark.parametrize('family', _families())
def test_every_family_has_a_readme_with_its_bibtex(family):
    path = osp.join(REPO, 'configs', family, 'README.md')
    assert osp.isfile(path), (
        f'configs/{family}/ has no README.md (MMAction2 layout: title, paper '
        'link, <!-- [ALGORITHM] -->, results, citation)'
    )
    text = _read(path)
    assert text.startswith('# ')
    head = text.split('<!-- [ALGORITHM] -->')[0]
    assert '<!-- [ALGORITHM] -->' in text, path
    assert re.search(r'\[[^\]]+\]\(https://[^)]+\)', head), (
        f'{path}: the paper link must come before <!-- [ALGORITHM] -->'
    )
    entries = _bibtex_entries(text.split('## Citation', 1)[-1])
    assert entries, f'{path}: no ```BibTeX block under ## Citation'
    for entry in entries:
        _check_bibtex(entry, path)
    # the linked paper is the one cited
    title = re.search(r'\[([^\]]+)\]', head).group(1)
    fields = _check_bibtex(entries[0], path)
    assert title.lower() == fields['title'].lower(), (title, fields['title'])
    for config in re.findall(r'\]\(/(configs/[^)]+\.py)\)', text):
        assert osp.isfile(osp.join(REPO, config)), f'{path}: {config}'


@pytest.mark.parametrize(
    'metafile', _metafiles(), ids=lambda p: osp.relpath(p, REPO)
)
def test_metafile_points_at_its_readme_and_paper(metafile):
    from selfy_mmaction.zoo.publish import readme_paper

    with open(metafile) as f:
        data = yaml.safe_load(f)
    family_readme = osp.relpath(
        osp.join(osp.dirname(metafile), 'README.md'), REPO
    )
    for collection in data['Collections']:
        assert collection['README'] == family_readme.replace(osp.sep, '/')
        assert collection['Paper'] == readme_paper(
            osp.join(REPO, collection['README'])
        )
    readme = _read(osp.join(REPO, family_readme))
    rows = [line for line in readme.splitlines() if line.startswith('| ')]
    for model in data['Models']:
        meta = model['Metadata']
        assert meta['selfy-mmaction Version'] == __version__ or re.fullmatch(
            r'\d+\.\d+\.\d+', str(meta['selfy-mmaction Version'])
        )
        assert meta['Weights License'] == 'Apache-2.0'
        (row,) = [r for r in rows if f'[config](/{model["Config"]})' in r]
        for result in model['Results']:
            for key in ('Top 1 Accuracy', 'Top 5 Accuracy'):
                assert f'| {result["Metrics"][key]:.2f} |' in row, (
                    f'{family_readme}: the {model["Name"]} row does not '
                    f'show {key} = {result["Metrics"][key]} of the metafile'
                )
        # URLs are links; a local zoo/ path (git-ignored, absent from a
        # clone) is plain text, never a link to a missing file
        for key in ('Weights', 'Training Log'):
            shown = (
                f']({model[key]})'
                if '://' in model[key]
                else f'| `{model[key]}` (local) |'
            )
            assert shown in row, (family_readme, key, shown)
        assert '](/zoo/' not in readme, family_readme
        for key in ('FLOPs', 'Parameters', 'Resolution'):
            assert f'| {meta[key]} |' in row, (family_readme, key)
