"Presets as plugins: the package's own found in a fresh process, a fourth one added from another installed package."
import json, sys, textwrap
from conftest import run

TINY = textwrap.dedent('''
    "A fourth preset in one module: the first recording of each spoken digit, paired with an MNIST digit of its value."
    import numpy as np
    from PIL import Image
    from s2i_nb.core import register_preset, get_preset, s2i_home
    from s2i_nb.datasets import find_data, read_mnist, fsdd_recordings
    from s2i_nb.data import Pair, PairSource, register_source

    def tiny_pairs(cfg, data=None, **kw):
        "Ten pairs: one recording and one MNIST image per digit (images written to the cache as PNG files)."
        path = find_data(data, download=False)
        x,y = read_mnist(path)
        rec = fsdd_recordings(path)
        pairs = []
        for r in rec[rec['index'] == 0].groupby('digit').head(1).itertuples():
            img = s2i_home('tiny')/f"{r.digit}.png"
            Image.fromarray(x[np.flatnonzero(y == r.digit)[0]]).save(img)
            pairs.append(Pair(id=f"tiny-{r.digit}", sound=r.path, image=str(img), source=r.path, label=str(r.digit)))
        return PairSource(pairs, cfg)

    register_source('tiny', tiny_pairs)
    register_preset('tiny', lambda: get_preset('digits').update(name='tiny', source='tiny', **{'curation.pairs_per_class': 1}))
''')

def test_natural_found_in_a_fresh_process():
    "Nothing imports `s2i_nb.natural` by hand: its preset, source and networks are found through `PLUGINS`."
    code = ("import sys\nfrom s2i_nb.core import get_preset\nfrom s2i_nb.data import pair_source\n"
            "src = pair_source(None, get_preset('natural'))\n"
            "print(type(src).__name__, 's2i_nb.natural' in sys.modules)")
    r = run(sys.executable, '-c', code)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split()[:2] == ['NaturalPairs', 'True'], r.stdout

def test_a_preset_from_an_installed_plugin(s2i, tmp_path):
    "A package that declares an `s2i_nb.plugins` entry point adds a preset and its source; the CLI uses them."
    site = tmp_path/'site'; site.mkdir()
    (site/'tiny_preset.py').write_text(TINY)
    dist = site/'tiny_preset-0.1.dist-info'; dist.mkdir()
    (dist/'METADATA').write_text('Metadata-Version: 2.1\nName: tiny-preset\nVersion: 0.1\n')
    (dist/'entry_points.txt').write_text('[s2i_nb.plugins]\ntiny = tiny_preset\n')
    env = {'PYTHONPATH': str(site), 'S2I_HOME': str(tmp_path/'home')}
    out = tmp_path/'pairs'
    r = run(s2i, 'pairs', '--preset', 'tiny', '--out', out, '--n_show', '2', env=env, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    s = json.loads((out/'summary.json').read_text())
    assert (s['n_pairs'], s['n_usable'], s['n_skipped']) == (10, 10, 0), s
    r = run(s2i, 'pairs', '--preset', 'tinyy', '--out', out, env=env, cwd=tmp_path)
    assert r.returncode == 2 and "['digits', 'natural', 'paper', 'tiny']" in r.stderr, r.stderr
    r = run(s2i, 'pairs', '--preset', 'tiny', '--out', out, env={'S2I_HOME': str(tmp_path/'home')}, cwd=tmp_path)
    assert r.returncode == 2 and "Unknown preset 'tiny'" in r.stderr, r.stderr   # not installed: not there
