"The installed package, as a newcomer gets it: imported from outside the clone."
import sys
from conftest import run, ROOT

def test_import_from_elsewhere(tmp_path):
    r = run(sys.executable, '-c', 'import s2i_nb, s2i_nb.core, s2i_nb.datasets, s2i_nb.media, s2i_nb.data, s2i_nb.networks, s2i_nb.cli, s2i_nb.gan_nets, s2i_nb.gan_data, s2i_nb.gan, s2i_nb.feat2img, s2i_nb.snd2feat, s2i_nb.inference, s2i_nb.pipeline, s2i_nb.evaluation, s2i_nb.demo; print(s2i_nb.__version__, s2i_nb.datasets.find_data(download=False))', cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    version, data = r.stdout.split()
    assert version == '0.0.1' and data.endswith('data')

def test_package_in_sync_with_notebooks():
    "Every module the notebooks export exists and names its notebook."
    for nb in (ROOT/'nbs').glob('[0-9]*.ipynb'):
        src = nb.read_text()
        if '#| default_exp' not in src: continue
        mod = src.split('#| default_exp ')[1].split('\\n')[0].split('"')[0].strip()
        py = ROOT/'s2i_nb'/f'{mod}.py'
        assert py.exists(), f"{nb.name} exports {mod}, but {py} is missing: run nbdev_export"
        assert f'File to edit: ../nbs/{nb.name}' in py.read_text()
