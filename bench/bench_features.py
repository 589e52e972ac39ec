"""Feature extraction throughput against the raw forward throughput of the same extractor.

    python bench/bench_features.py [--num_workers 2] [--paper-rows 256] [--natural-rows 512]
    S2I_SOUNDNET=/work/s2i_cache/sound8.npy python bench/bench_features.py   # natural: the real SoundNet

Raw: the inputs of every row are loaded and prepared beforehand and held in memory; only the
extractor's forward passes are timed, on the same batches. Extraction: `extract_features` end to end
(reading and decoding the files in DataLoader workers, the forward passes, writing the memory-mapped
store, the per-chunk markers). Both run in this process one after the other; compare the ratio (the
machine is shared and noisy). The digits preset runs on all 2,500 pairs; the paper preset with
randomly initialised VGG-16 and SoundNet on a few hundred digits pairs read at the paper's sizes.
The natural preset runs the real SoundNet (`soundnet_pool5_mean`) on `--natural-rows` ESC-50 clips
(16 kHz, resampled to 22,050 Hz and tiled to 6 s), and its CIFAR-10 image network (`natural_image`). Also prints the peak resident memory growth, which
must not grow with the number of rows.

Two raw figures: at torch's thread count (all cores) and at the extraction's (`extract_features` runs
the forward pass on one CPU thread, so that features do not depend on how many processes share the
work: bit-equal shards). On two cores the second is the ceiling: the first needs both cores for the
forward pass alone, and the decoding workers need cores too. `--profile` adds the decoding and
preparation cost per row (one worker's work); `--bits` shows why one thread: how far the same batch's
features on two and three threads are from those on one.
"""
import argparse, resource, shutil, tempfile, time
from pathlib import Path
import numpy as np, pandas as pd, torch
from s2i_nb.core import get_preset, torch_threads
from s2i_nb.data import PairInputs, collate_inputs
from s2i_nb.digits import DigitsPairs
from s2i_nb.models import SoundNet8, VGG16FC6
from s2i_nb.networks import get_extractor, preset_networks
from s2i_nb.features import extract_features

def prep_ms(src, ext, n):
    "Milliseconds per row of reading, decoding and preparing the inputs on one thread (a loader worker's work)."
    ds = PairInputs(src, range(n), {ext.modality: ext.prep})
    with torch_threads(1):
        ds[0]; t0 = time.perf_counter()
        for j in range(1, n): ds[j]
    return 1e3*(time.perf_counter() - t0)/(n - 1)

def raw_rate(src, ext, model, n, bs, threads=None):
    "Rows/s of the forward passes alone on `threads` CPU threads (None: torch's), on inputs prepared beforehand."
    ds = PairInputs(src, range(n), {ext.modality: ext.prep})
    batches = [collate_inputs([ds[j] for j in range(i, min(i+bs, n))])[1][0] for i in range(0, n, bs)]
    with torch.inference_mode(), torch_threads(threads):
        ext.forward(model, batches[0])
        t0 = time.perf_counter()
        for xb in batches: ext.forward(model, xb).float().cpu().numpy()
    return n/(time.perf_counter() - t0)

def extract_rate(src, ext, model, n, bs, num_workers, chunk):
    "Rows/s of `extract_features` end to end, into a fresh store."
    man = pd.DataFrame(dict(id=[p.id for p in src.pairs[:n]], kept=True))
    d = Path(tempfile.mkdtemp())
    try:
        t0 = time.perf_counter()
        extract_features(man, ext, d/'store', src, model=model, bs=bs, chunk_size=chunk, num_workers=num_workers, quiet=True)
        return n/(time.perf_counter() - t0)
    finally: shutil.rmtree(d)

def rss_mb(): return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss/1024

def thread_bits(name, src, ext, model, sizes=(7, 32), threads=(2, 3)):
    "Print how far the features of the same batch on `threads` CPU threads are from those on one thread."
    ds = PairInputs(src, range(max(sizes)), {ext.modality: ext.prep})
    diffs = []
    for bs in sizes:
        xb = collate_inputs([ds[j] for j in range(bs)])[1][0]
        with torch.inference_mode():
            with torch_threads(1): one = ext.forward(model, xb).float()
            for t in threads:
                with torch_threads(t): diffs.append(f"bs {bs}, {t} threads: {(ext.forward(model, xb).float() - one).abs().max().item():.1e}")
    print(f"{name:7} {ext.name:19} max |features - features on 1 thread|: " + '; '.join(diffs), flush=True)

def bench(name, src, ext_name, model, n, bs, num_workers, chunk, reps, profile=False, bits=False):
    "Print extraction rows/s against the raw forward's, at torch's threads and at one thread; runs interleaved."
    ext = get_extractor(ext_name)
    if bits: thread_bits(name, src, ext, model)
    raw,raw1,ext_r = [],[],[]
    before = rss_mb()
    for _ in range(reps):
        raw.append(raw_rate(src, ext, model, n, bs)); raw1.append(raw_rate(src, ext, model, n, bs, 1))
        ext_r.append(extract_rate(src, ext, model, n, bs, num_workers, chunk))
    raw,raw1,ext_r = max(raw),max(raw1),max(ext_r)
    distinct = len({str(getattr(src.pairs[i], ext.modality)) for i in range(n)})   # extraction runs each input once
    shared = f"  ({distinct} distinct inputs: {ext_r*distinct/n/raw:.2f} of raw per input run)" if distinct < n else ''
    prof = f"  prep {prep_ms(src, ext, min(n, 64)):6.2f} ms/row, forward {1e3/raw1:6.2f} ms/row (1 thread)" if profile else ''
    print(f"{name:7} {ext_name:19} rows={n:5} bs={bs:4} num_workers={num_workers}  raw forward {raw:8.1f} rows/s "
          f"({raw1:8.1f} on 1 thread)  extraction {ext_r:8.1f} rows/s  ratio {ext_r/raw:.2f} ({ext_r/raw1:.2f} of 1 thread)"
          f"{shared}{prof}  peak RSS growth {rss_mb()-before:6.1f} MB", flush=True)

if __name__ == '__main__':
    p = argparse.ArgumentParser()
    p.add_argument('--num_workers', type=int, default=2); p.add_argument('--reps', type=int, default=2)
    p.add_argument('--paper-rows', type=int, default=256); p.add_argument('--natural-rows', type=int, default=512)
    p.add_argument('--bs', type=int, default=256, help='digits batch'); p.add_argument('--natural-bs', type=int, default=32)
    p.add_argument('--profile', action='store_true', help='also the decoding/preparation cost per row')
    p.add_argument('--bits', action='store_true', help='also how much features change with the thread count')
    a = p.parse_args()
    print(f"torch threads: {torch.get_num_threads()}")
    src = DigitsPairs()
    nets = preset_networks(src.cfg, roles=('image_extractor', 'sound_extractor'))
    for role in ('image_extractor', 'sound_extractor'):
        bench('digits', src, getattr(src.cfg.features, role), nets[role].eval(), len(src), a.bs, a.num_workers, 1024, a.reps,
              a.profile, a.bits)
    if a.natural_rows:
        from s2i_nb.natural import NaturalPairs
        nsrc = NaturalPairs(cfg=get_preset('natural'))
        for role in ('sound_extractor', 'image_extractor'):
            ne = get_extractor(getattr(nsrc.cfg.features, role))
            bench('natural', nsrc, ne.name, ne.build(nsrc.cfg).eval(), min(a.natural_rows, len(nsrc)), a.natural_bs,
                  a.num_workers, a.natural_bs*8, a.reps, a.profile, a.bits)
    if a.paper_rows:
        from torchvision.models import vgg16
        psrc = DigitsPairs(cfg=get_preset('paper'))
        bench('paper', psrc, 'vgg16_fc6', VGG16FC6(vgg16(weights=None)).eval(), a.paper_rows, 32, a.num_workers, 128, 1,
              bits=a.bits)
        bench('paper', psrc, 'soundnet_pool5', SoundNet8().eval(), a.paper_rows, 32, a.num_workers, 128, 1, bits=a.bits)
