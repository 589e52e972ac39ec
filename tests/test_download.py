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
                           min_recordings=N_REC, show_progress=False)
    assert is_digits_data(dest)
    assert len(list((dest/'fsdd'/'recordings').glob('*.wav'))) == N_REC
    x,y = read_mnist(dest)
    assert x.shape == (10000, 28, 28)
    assert not [p for p in dest.rglob('*') if p.name.endswith('.part') or p.name.startswith('.fsdd-')]
    # a second call finds everything in place and downloads nothing (the server is not needed)
    assert download_digits(dest, fsdd_url='http://127.0.0.1:9/none.zip', mnist_url='http://127.0.0.1:9/',
                           min_recordings=N_REC, show_progress=False) == dest

def test_download_file_url(mirror, tmp_path):
    dest = download_digits(tmp_path, fsdd_url=(mirror/'v1.0.10.zip').as_uri(), mnist_url=(mirror/'mnist').as_uri(),
                           min_recordings=N_REC, show_progress=False)
    assert is_digits_data(dest)

def test_bad_checksum_leaves_nothing(server, tmp_path):
    bad = dict(MNIST_FILES); bad['t10k-labels-idx1-ubyte.gz'] = '0'*32
    with pytest.raises(OSError, match='MD5'):
        download_digits(tmp_path, fsdd_url=f'{server}/v1.0.10.zip', mnist_url=f'{server}/mnist/', mnist_md5=bad,
                        min_recordings=N_REC, show_progress=False)
    assert not (tmp_path/'mnist'/'t10k-labels-idx1-ubyte.gz').exists()
    assert not list(tmp_path.rglob('*.part'))

def test_archive_checked(server, tmp_path):
    "An archive with fewer recordings than required, or a 404, is refused and leaves no recordings folder."
    with pytest.raises(OSError, match='recordings, expected'):
        download_digits(tmp_path, fsdd_url=f'{server}/v1.0.10.zip', mnist_url=f'{server}/mnist/',
                        min_recordings=N_REC+1, show_progress=False)
    with pytest.raises(OSError, match='download of'):
        download_digits(tmp_path, fsdd_url=f'{server}/missing.zip', mnist_url=f'{server}/mnist/',
                        min_recordings=N_REC, show_progress=False)
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
