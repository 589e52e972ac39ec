"""Labelling throughput of curation against the raw forward throughput of the same classifiers.

    python bench/bench_curation.py [--n 2500] [--workers 2] [--paper]

Raw: every input is decoded and prepared beforehand and held in memory; we time only the two
classifiers' forward passes over the same batches. Labelling: `label_pairs` end to end (reading the
files, decoding, resampling in DataLoader workers, the forward passes, the top-k). Both run in this
process, one after the other, and are repeated; the ratio labelling/raw is what to compare (the
machine is shared and noisy, absolute figures move).
"""
import argparse, time, torch, numpy as np
from s2i_nb.core import get_preset
from s2i_nb.data import DigitsPairs, PairInputs, collate_inputs
from s2i_nb.networks import preset_networks, paper_classifiers
from s2i_nb.curation import label_pairs

def raw_rate(src, img, snd, idxs, bs):
    "Rows/s of the forward passes alone, on inputs prepared beforehand."
    ds = PairInputs(src, idxs, {'image': img.prep, 'sound': snd.prep})
    batches = [collate_inputs([ds[j] for j in range(i, min(i+bs, len(ds)))])[1] for i in range(0, len(ds), bs)]
    t0 = time.perf_counter()
    for xi,xs in batches: img.log_probs(xi).exp().topk(5); snd.log_probs(xs).exp().topk(5)
    return len(ds)/(time.perf_counter() - t0)

def label_rate(src, img, snd, idxs, bs, workers):
    "Rows/s of `label_pairs` end to end, from the files."
    t0 = time.perf_counter()
    label_pairs(src, img, snd, idxs=idxs, bs=bs, num_workers=workers, show_progress=False)
    return len(idxs)/(time.perf_counter() - t0)

def bench(name, src, img, snd, n, bs, workers, reps):
    idxs = list(range(min(n, len(src))))
    raw = max(raw_rate(src, img, snd, idxs, bs) for _ in range(reps))
    lab = max(label_rate(src, img, snd, idxs, bs, workers) for _ in range(reps))
    print(f"{name:7} rows={len(idxs):5} bs={bs:4} workers={workers}  raw forward {raw:9.1f} rows/s  labelling {lab:9.1f} rows/s  ratio {lab/raw:.2f}")

if __name__ == '__main__':
    p = argparse.ArgumentParser()
    p.add_argument('--n', type=int, default=2500); p.add_argument('--workers', type=int, default=2)
    p.add_argument('--bs', type=int, default=256); p.add_argument('--reps', type=int, default=2)
    p.add_argument('--paper', action='store_true', help='also the paper preset (random weights, 128 rows)')
    a = p.parse_args()
    torch.set_num_threads(max(1, torch.get_num_threads()))
    print(f"torch threads: {torch.get_num_threads()}")
    src = DigitsPairs()
    nets = preset_networks(src.cfg, roles=('image_classifier', 'sound_classifier'))
    bench('digits', src, nets['image_classifier'], nets['sound_classifier'], a.n, a.bs, a.workers, a.reps)
    if a.paper:
        import timm
        from s2i_nb.models import SoundNet8
        psrc = DigitsPairs(cfg=get_preset('paper'))
        img,snd = paper_classifiers(timm.create_model('inception_resnet_v2', pretrained=False), SoundNet8())
        bench('paper', psrc, img, snd, 128, 16, a.workers, 1)
