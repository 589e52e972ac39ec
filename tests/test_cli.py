"The `s2i` command, run as a user runs it, in its own process."
import json, shutil
from pathlib import Path
import soundfile as sf, numpy as np
from conftest import run

def test_help(s2i):
    r = run(s2i, '--help')
    assert r.returncode == 0 and all(c in r.stdout for c in ('train', 'generate', 'evaluate', 'crossval', 'pairs', 'curate'))
    r = run(s2i, 'generate', '--help')
    assert r.returncode == 0 and '--ckpt' in r.stdout and 'sounds' in r.stdout
    r = run(s2i, 'pairs', '--help')
    assert r.returncode == 0 and '--preset' in r.stdout and 'Preset name' in r.stdout

def test_pairs_digits(s2i, tmp_path):
    "All 2,500 digits pairs built, checked and summarised."
    out = tmp_path/'digits'
    r = run(s2i, 'pairs', '--preset', 'digits', '--out', out, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    s = json.loads((out/'summary.json').read_text())
    assert (s['n_pairs'], s['n_usable'], s['n_skipped']) == (2500, 2500, 0)
    assert abs(s['mismatch_rate'] - 0.3) < 1e-9
    assert (out/'pairs.png').stat().st_size > 10_000
    assert not list(out.glob('.*.part')), "temporary files left behind"

def test_pairs_table_reports_bad_rows(s2i, tmp_path, data_dir):
    "A pairs CSV with one good and two bad rows: the bad ones are listed with their reasons."
    wav = sorted((data_dir/'fsdd'/'recordings').glob('*.wav'))[0]
    from s2i_nb.datasets import read_mnist
    from PIL import Image
    Image.fromarray(read_mnist(data_dir)[0][0]).save(tmp_path/'a.png')
    shutil.copy(wav, tmp_path/'a.wav')
    sf.write(tmp_path/'quiet.wav', np.zeros(8000, np.float32), 8000)
    (tmp_path/'broken.png').write_bytes(b'\x89PNG\r\n\x1a\n' + b'\0'*20)
    (tmp_path/'pairs.csv').write_text('image,sound,label\na.png,a.wav,zero\na.png,quiet.wav,zero\nbroken.png,a.wav,zero\n')
    r = run(s2i, 'pairs', '--source', tmp_path/'pairs.csv', '--out', tmp_path/'out')
    assert r.returncode == 0, r.stderr
    s = json.loads((tmp_path/'out'/'summary.json').read_text())
    assert (s['n_pairs'], s['n_usable'], s['n_skipped']) == (3, 1, 2)
    skipped = (tmp_path/'out'/'skipped.csv').read_text()
    assert 'quiet.wav' in skipped and 'silent' in skipped and 'broken.png' in skipped and 'will not decode' in skipped

def test_bad_paths_one_line(s2i, tmp_path):
    "User errors are one line on stderr and a non-zero exit code, and leave no output behind."
    for args, msg in [(('pairs', '--source', tmp_path/'missing'), 'no such file or folder'),
                      (('pairs', '--data', tmp_path), 'no fsdd/recordings'),
                      (('pairs', '--preset', 'nope'), 'Unknown preset'),
                      (('crossval', '--preset', 'digits'), "holds out the source's folds")]:
        r = run(s2i, *args, '--out', tmp_path/'out')
        assert r.returncode == 2, (args, r.stderr)
        assert len(r.stderr.strip().splitlines()) == 1 and msg in r.stderr, r.stderr
        assert not (tmp_path/'out').exists()
    r = run(s2i, 'fly')
    assert r.returncode == 2 and "unknown command 'fly'" in r.stderr

def test_curate_digits(s2i, tmp_path):
    "Digits curated with the digit networks; a second run reuses every labelled chunk."
    out = tmp_path/'digits'
    r = run(s2i, 'curate', '--preset', 'digits', '--out', out, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    s = json.loads((out/'summary.json').read_text())
    assert (s['n_pairs'], s['n_kept']) == (2500, 1500)
    k1 = [x for x in s['scores'] if x['k'] == 1][0]
    assert k1['precision'] >= 0.97 and k1['recall'] >= 0.85
    import pandas as pd
    man = pd.read_csv(out/'manifest.csv')
    assert len(man) == 2500 and set(man.split.dropna()) == {'train', 'valid'}
    assert man[~man.kept].reason.notna().all()
    mtimes = {p: p.stat().st_mtime_ns for p in (out/'labels').glob('*.csv')}
    r = run(s2i, 'curate', '--preset', 'digits', '--out', out, cwd=tmp_path)
    assert r.returncode == 0 and {p: p.stat().st_mtime_ns for p in mtimes} == mtimes

def test_curate_paper_without_weights(s2i, tmp_path, monkeypatch):
    "The paper preset needs weight files: without them, one clear line and exit code 2."
    env = {'S2I_INCEPTION': '', 'S2I_SOUNDNET': str(tmp_path/'missing.npy')}   # unset, SoundNet would be fetched
    r = run(s2i, 'curate', '--preset', 'paper', '--out', tmp_path/'p', env=env)   # the paper names no default source
    assert r.returncode == 2 and 'no default source' in r.stderr, r.stderr
    pairs = tmp_path/'pairs'; pairs.mkdir()
    from PIL import Image
    Image.new('RGB', (32, 32)).save(pairs/'a.png'); (pairs/'a.wav').write_bytes(b'')
    r = run(s2i, 'curate', '--preset', 'paper', '--source', pairs, '--out', tmp_path/'p', env=env)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert 'Inception-ResNet-v2' in r.stderr

def test_train_generate_evaluate(s2i, tmp_path, data_dir):
    "The whole method as a user runs it, on a short configuration: train, train again (every stage reused), generate, evaluate."
    from s2i_nb.core import get_preset
    cfg = tmp_path/'quick.json'
    get_preset('digits').update(**{'multimodal.epochs': 5, 'gan2.epochs': 2, 'gan1.epochs': 2}).save(cfg)
    run_dir = tmp_path/'run'
    r = run(s2i, 'train', '--preset', cfg, '--out', run_dir, '--num_workers', '0', cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    for f in ('s2i.json', 'gan1/gan1.pt', 'gan2/gan2.pt', 'multimodal/model.pt', 'report/metrics.json', 'report/summary.md'):
        assert (run_dir/f).exists(), f
    r = run(s2i, 'train', '--preset', cfg, '--out', run_dir, '--num_workers', '0', cwd=tmp_path)
    assert r.returncode == 0 and r.stdout.count('up to date') == 6, r.stdout      # resume: every stage reused
    wavs = sorted((data_dir/'fsdd'/'recordings').glob('*.wav'))[:2]
    r = run(s2i, 'generate', *wavs, '--ckpt', run_dir, '--out', tmp_path/'gen', '--scale', '3')
    assert r.returncode == 0, r.stderr
    from PIL import Image
    ims = sorted((tmp_path/'gen').glob('*.png'))
    assert [p.stem for p in ims] == [w.stem for w in wavs] and Image.open(ims[0]).size == (96, 96)
    r = run(s2i, 'evaluate', '--ckpt', run_dir, '--out', tmp_path/'rep')
    assert r.returncode == 0, r.stderr
    m = json.loads((tmp_path/'rep'/'metrics.json').read_text())
    assert m['n'] == 150 and 0 <= m['class_accuracy'] <= 1 and set(m['topk_match']) == {'1', '3', '5', '10'}
    for row in ('class accuracy per clip', 'balanced class accuracy', '95% interval', 'chance'): assert row in r.stdout, r.stdout
    # bad input: one line per unusable file with its reason, exit code 1; nothing written when none is usable
    (tmp_path/'noise.txt').write_text('not a sound'); (tmp_path/'empty.wav').write_bytes(b'')
    for args, msg in [((tmp_path/'noise.txt',), 'noise.txt'), ((tmp_path/'missing.wav',), 'missing.wav')]:
        r = run(s2i, 'generate', *args, '--ckpt', run_dir, '--out', tmp_path/'gen2')
        assert r.returncode == 1 and len(r.stderr.strip().splitlines()) == 1 and msg in r.stderr, r.stderr
        assert not (tmp_path/'gen2').exists()
    # a batch with bad files among good ones: the good images are written, each bad file named on its own line
    mixed = [tmp_path/'empty.wav', wavs[0], tmp_path/'noise.txt', wavs[1]]
    r = run(s2i, 'generate', *mixed, '--ckpt', run_dir, '--out', tmp_path/'gen3')
    assert r.returncode == 1, r.stderr
    assert sorted(p.stem for p in (tmp_path/'gen3').glob('*.png')) == sorted(w.stem for w in wavs)
    bad = r.stderr.strip().splitlines()
    assert len(bad) == 2 and 'empty.wav' in bad[0] and 'empty file' in bad[0] and 'noise.txt' in bad[1], r.stderr
def test_generate_phone_recording_and_set(s2i, tmp_path, data_dir):
    "What a phone records (AAC in .m4a) becomes an image; `--set` checks the preset field it changes."
    import soundfile as sf
    from s2i_nb.media import write_video
    run_dir = tmp_path/'run'
    r = run(s2i, 'train', '--preset', 'digits', '--set', 'multimodal.epochs=2', 'gan2.epochs=1', 'gan1.epochs=1',
            '--out', run_dir, '--num_workers', '0', '--no_report', cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    cfg = json.loads((run_dir/'s2i.json').read_text())['preset']
    assert (cfg['multimodal']['epochs'], cfg['gan2']['epochs'], cfg['gan1']['epochs']) == (2, 1, 1)
    w,sr = sf.read(sorted((data_dir/'fsdd'/'recordings').glob('*.wav'))[0], dtype='float32')
    write_video(tmp_path/'phone.m4a', audio=w, sr=sr)
    r = run(s2i, 'generate', tmp_path/'phone.m4a', '--ckpt', run_dir, '--out', tmp_path/'gen')
    assert r.returncode == 0 and (tmp_path/'gen'/'phone.png').exists(), r.stderr
    r = run(s2i, 'train', '--set', 'gan1.epoch=2', '--out', tmp_path/'nope', cwd=tmp_path)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert "Unknown preset field 'gan1.epoch'" in r.stderr and not (tmp_path/'nope').exists()
