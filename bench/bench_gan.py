"""GAN training throughput: the fastai `CondGANLearner` against a plain-PyTorch pix2pix loop.

    python bench/bench_gan.py [--reps 3] [--digits-iters 60] [--paper-iters 6] [--paper-bs 4]

Both train the same generator and critic (`gan_nets` of the preset's `gan2` settings, the same
initial weights), on the same batches (one feature store of conditions and one of targets, read by
the same `GANPairs` dataset, no loader workers), with the same optimiser (Adam, lr 2e-4, betas
(0.5, 0.999), eps 1e-8, no weight decay) and the same losses (BCE + 100 x L1).

The unit is the GAN iteration, one critic update and one generator update, as pix2pix counts it:
images/s = iterations/s x batch size. pix2pix does both updates on one batch with one generator
forward pass; fastai's `GANTrainer` alternates, one update per batch, and recomputes the fake for
the critic step (one extra generator forward without gradients per iteration). Runs alternate
(fastai, plain, fastai, ...) and the best of `--reps` is kept for each; compare the ratio (the
machine is shared and noisy).
"""
import argparse, shutil, tempfile, time
from pathlib import Path
import numpy as np, pandas as pd, torch, torch.nn.functional as F
from fastai.data.core import DataLoaders
from s2i_nb.core import get_preset, seed_everything
from s2i_nb.features import FeatureStore
from s2i_nb.gan_nets import FeatureLayout, FeatureScaler, gan_nets
from s2i_nb.gan import GANPairs, ImageTarget, CondGANLearner

def make_stores(d:Path, n:int, dim:int, pix:int, seed:int=0):
    "Two complete feature stores of `n` rows: conditions (`dim`) and target pixels (`pix`, in [-1, 1])."
    rng = np.random.default_rng(seed)
    ids = [str(i) for i in range(n)]
    out = []
    for name,width,vals in (('cond', dim, rng.normal(0, 1, (n, dim))), ('pix', pix, rng.uniform(-1, 1, (n, pix)))):
        meta = dict(extractor=name, weights='-', layer='-', preprocessing='-', dim=width, dtype='float32', preset='bench',
                    preset_hash='-', manifest_hash='-', chunk_size=n, n=n, ids=ids)
        FeatureStore.create(d/name, meta)
        a = np.load(d/name/'features.npy', mmap_mode='r+'); a[:] = vals; a.flush(); del a
        (d/name/'done'/'000000').touch()
        out.append(FeatureStore(d/name))
    man = pd.DataFrame(dict(id=ids, kept=True, label='0', split='train'))
    return out, man

def nets(cfg, layout, ch, scaler, seed=0):
    seed_everything(seed)
    return gan_nets(cfg.gan2, layout, ch, scaler)

def fastai_rate(ds, cfg, layout, ch, scaler, bs, iters):
    "GAN iterations/s of `CondGANLearner` (2 batches = one critic + one generator update)."
    dls = DataLoaders.from_dsets(ds, ds, bs=bs, shuffle=False, drop_last=True, num_workers=0, device='cpu')
    g,c = nets(cfg, layout, ch, scaler)
    learn = CondGANLearner(dls, g, c, path=tempfile.mkdtemp())
    n_b = 2*iters
    from fastai.callback.core import Callback, CancelFitException
    class Stop(Callback):
        "Time batches 2..n_b+1 (the first pair warms up), then stop."
        def after_batch(self):
            self.i = getattr(self, 'i', 0) + 1
            if self.i == 2: self.t0 = time.perf_counter()
            if self.i == n_b + 2: self.dt = time.perf_counter() - self.t0; raise CancelFitException()
    s = Stop()
    with learn.no_bar(), learn.no_logging(): learn.fit(10**6, cbs=s)
    return iters/s.dt

def plain_rate(ds, cfg, layout, ch, scaler, bs, iters):
    "GAN iterations/s of pix2pix's own loop: D step then G step on each batch, two Adam optimisers."
    dl = torch.utils.data.DataLoader(ds, batch_size=bs, shuffle=False, drop_last=True, num_workers=0)
    g,c = nets(cfg, layout, ch, scaler)
    g.train(); c.train()
    opt_g = torch.optim.Adam(g.parameters(), lr=2e-4, betas=(0.5, 0.999), eps=1e-8)
    opt_d = torch.optim.Adam(c.parameters(), lr=2e-4, betas=(0.5, 0.999), eps=1e-8)
    bce = F.binary_cross_entropy_with_logits
    done,t0 = 0,None
    while True:
        for cond,real,_ in dl:
            if done == 1: t0 = time.perf_counter()
            fake = g(cond)
            for p in c.parameters(): p.requires_grad_(True)
            opt_d.zero_grad()
            pf,pr = c(fake.detach(), cond),c(real, cond)
            ((bce(pf, torch.zeros_like(pf)) + bce(pr, torch.ones_like(pr)))/2).backward(); opt_d.step()
            for p in c.parameters(): p.requires_grad_(False)
            opt_g.zero_grad()
            pf = c(fake, cond)
            (bce(pf, torch.ones_like(pf)) + 100*F.l1_loss(fake, real)).backward(); opt_g.step()
            done += 1
            if done == iters + 1: return iters/(time.perf_counter() - t0)

def bench(name, cfg, iters, bs, reps):
    layout = FeatureLayout.from_preset(cfg); ch,size = cfg.image.channels,cfg.image.size
    d = Path(tempfile.mkdtemp())
    try:
        (cond,pix),man = make_stores(d, bs*(iters + 2)*2 + bs, layout.dim, ch*size*size)
        ds = GANPairs(cond, pix, man, 'train', ImageTarget(ch, size))
        scaler = FeatureScaler.fit(cond.array)
        fa,pl = [],[]
        for _ in range(reps):
            fa.append(fastai_rate(ds, cfg, layout, ch, scaler, bs, iters))
            pl.append(plain_rate(ds, cfg, layout, ch, scaler, bs, iters))
        f,p = max(fa),max(pl)
        print(f"{name:6} {size}x{size}x{ch} bs={bs:3} iters={iters:3}  plain PyTorch {p*bs:8.1f} images/s  "
              f"fastai CondGANLearner {f*bs:8.1f} images/s  ratio {f/p:.2f}   (runs: plain {', '.join(f'{x*bs:.1f}' for x in pl)}; "
              f"fastai {', '.join(f'{x*bs:.1f}' for x in fa)})")
    finally: shutil.rmtree(d)

if __name__ == '__main__':
    a = argparse.ArgumentParser()
    a.add_argument('--reps', type=int, default=3)
    a.add_argument('--digits-iters', type=int, default=60); a.add_argument('--digits-bs', type=int, default=16)
    a.add_argument('--paper-iters', type=int, default=6); a.add_argument('--paper-bs', type=int, default=4)
    a.add_argument('--skip-paper', action='store_true')
    o = a.parse_args()
    print(f"torch threads: {torch.get_num_threads()}, device: cpu")
    bench('digits', get_preset('digits'), o.digits_iters, o.digits_bs, o.reps)
    if not o.skip_paper: bench('paper', get_preset('paper'), o.paper_iters, o.paper_bs, o.reps)
