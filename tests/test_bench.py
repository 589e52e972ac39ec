"Smoke tests of the benchmark scripts' code paths on the CPU (figures are not checked: timings are not tests)."
import json, sys
from pathlib import Path
import pytest
from conftest import run, ROOT

def test_bench_gpu_tiny_runs_on_cpu(tmp_path):
    "`bench/bench_gpu.py --device cpu --tiny`: every stage in eager and compiled mode trains and reports its figures."
    r = run(sys.executable, ROOT/'bench'/'bench_gpu.py', '--device', 'cpu', '--tiny', cwd=ROOT,
            env={'TORCHINDUCTOR_CACHE_DIR': str(tmp_path/'inductor')})
    assert r.returncode == 0, r.stderr[-3000:]
    res = json.loads([l for l in r.stdout.splitlines() if l.startswith('RESULT ')][-1][7:])
    rows = {(o['stage'], o['mode']): o for o in res['rows']}
    assert set(rows) == {(s, m) for s in ('gan1', 'gan2') for m in ('eager', 'compile')}
    for o in rows.values(): assert o['images_s'] > 0 and o['gflop_per_image'] > 0
    for s in ('gan1', 'gan2'):
        c = rows[(s, 'compile')]
        assert c['graphs_end'] == c['graphs_warm'] > 0   # compiled, and nothing recompiled while timing
        assert rows[(s, 'eager')]['graphs_end'] == 0

def test_bench_gpu_sh_is_one_command():
    "The GPU check is one script calling `bench_gpu.py` on CUDA within a time limit."
    sh = (ROOT/'bench'/'bench_gpu.sh').read_text()
    assert 'bench/bench_gpu.py --device cuda' in sh and 'timeout' in sh
