"""Feature extraction throughput against the raw forward throughput of the same extractor.

    python bench/bench_features.py [--workers 2] [--paper-rows 256]

Raw: the inputs of every row are loaded and prepared beforehand and held in memory; only the
extractor's forward passes are timed, on the same batches. Extraction: `extract_features` end to end
(reading and decoding the files in DataLoader workers, the forward passes, writing the memory-mapped
store, the per-chunk markers). Both run in this process one after the other; compare the ratio (the
machine is shared and noisy). The digits preset runs on all 2,500 pairs; the paper preset with
randomly initialised VGG-16 and SoundNet on a few hundred digits pairs read at the paper's sizes.
Also prints the peak resident memory growth, which must not grow with the number of rows.
"""
import argparse, resource, shutil, tempfile, time
from pathlib import Path
import numpy as np, pandas as pd, torch
from s2i_nb.core import get_preset
from s2i_nb.data import DigitsPairs, PairInputs, collate_inputs
from s2i_nb.models import SoundNet8, VGG16FC6
from s2i_nb.networks import get_extractor, preset_networks
from s2i_nb.features import extract_features

def raw_rate(src, ext, model, n, bs):
    "Rows/s of the forward passes alone, on inputs prepared beforehand."
    ds = PairInputs(src, range(n), {ext.modality: ext.prep})
    batches = [collate_inputs([ds[j] for j in range(i, min(i+bs, n))])[1][0] for i in range(0, n, bs)]
    with torch.inference_mode():
        ext.forward(model, batches[0])
        t0 = time.perf_counter()
        for xb in batches: ext.forward(model, xb).float().cpu().numpy()
    return n/(time.perf_counter() - t0)

def extract_rate(src, ext, model, n, bs, workers, chunk):
    "Rows/s of `extract_features` end to end, into a fresh store."
    man = pd.DataFrame(dict(id=[p.id for p in src.pairs[:n]], kept=True))
    d = Path(tempfile.mkdtemp())
    try:
        t0 = time.perf_counter()
        extract_features(man, ext, d/'store', src, model=model, bs=bs, chunk_size=chunk, num_workers=workers, show_progress=False)
        return n/(time.perf_counter() - t0)
    finally: shutil.rmtree(d)

def rss_mb(): return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss/1024

def bench(name, src, ext_name, model, n, bs, workers, chunk, reps):
    ext = get_extractor(ext_name)
    raw = max(raw_rate(src, ext, model, n, bs) for _ in range(reps))
    before = rss_mb()
    ext_r = max(extract_rate(src, ext, model, n, bs, workers, chunk) for _ in range(reps))
    print(f"{name:7} {ext_name:15} rows={n:5} bs={bs:4} workers={workers}  raw forward {raw:9.1f} rows/s  "
          f"extraction {ext_r:9.1f} rows/s  ratio {ext_r/raw:.2f}  peak RSS growth {rss_mb()-before:6.1f} MB")

if __name__ == '__main__':
    p = argparse.ArgumentParser()
    p.add_argument('--workers', type=int, default=2); p.add_argument('--reps', type=int, default=2)
    p.add_argument('--paper-rows', type=int, default=256)
    a = p.parse_args()
    print(f"torch threads: {torch.get_num_threads()}")
    src = DigitsPairs()
    nets = preset_networks(src.cfg, roles=('image_extractor', 'sound_extractor'))
    for role in ('image_extractor', 'sound_extractor'):
        bench('digits', src, getattr(src.cfg.features, role), nets[role].eval(), len(src), 256, a.workers, 1024, a.reps)
    if a.paper_rows:
        from torchvision.models import vgg16
        psrc = DigitsPairs(cfg=get_preset('paper'))
        bench('paper', psrc, 'vgg16_fc6', VGG16FC6(vgg16(weights=None)).eval(), a.paper_rows, 32, a.workers, 128, 1)
        bench('paper', psrc, 'soundnet_pool5', SoundNet8().eval(), a.paper_rows, 32, a.workers, 128, 1)
