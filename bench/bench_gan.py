"""GAN training throughput: the fastai `CondGANLearner` against a plain-PyTorch pix2pix loop.

    python bench/bench_gan.py [--reps 3] [--digits-iters 60] [--natural-iters 60] [--paper-iters 6] [--paper-bs 4]
                              [--opt fused|foreach] [--skip-paper]

Both train the same generator and critic (`gan_nets` of the preset's `gan2` settings, the same
initial weights), on the same batches (one feature store of conditions and one of targets, each batch
read whole by `GANPairs.batch` as `gan_dls` reads it, no loader workers), with the same optimiser (PyTorch's Adam with
its `--opt` kernels, lr 2e-4, betas (0.5, 0.999), eps 1e-8, no weight decay) and the same losses
(BCE + 100 x L1). Sizes: digits (32x32 gray, 256-d), natural (32x32 RGB, 256-d), paper (128x128 RGB,
4,096-d).

The unit is the GAN iteration, one critic update and one generator update, as pix2pix counts it:
images/s = iterations/s x batch size. pix2pix does both updates on one batch with one generator
forward pass; so does `CondGANLearner` (its `one_batch`: a critic then a generator update on each
batch, the generator update reusing the critic update's fake). Runs alternate (plain, fastai, plain,
...); the best of `--reps` and the medians give two ratios; compare the ratios (the machine is shared
and noisy).
"""
import argparse, shutil, tempfile, time
from pathlib import Path
import numpy as np, pandas as pd, torch, torch.nn.functional as F
from fastai.data.core import DataLoaders, TfmdDL
from fastcore.basics import noop
from s2i_nb.core import get_preset, seed_everything
from s2i_nb.features import FeatureStore
from s2i_nb.gan_nets import FeatureLayout, FeatureScaler, gan_nets
from s2i_nb.gan_data import GANPairs, ImageTarget, ToFloat
from s2i_nb.gan import CondGANLearner

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

def fastai_rate(ds, cfg, layout, ch, scaler, bs, iters, opt='fused'):
    "GAN iterations/s of `CondGANLearner` (2 fastai batches = one critic + one generator update)."
    dl = lambda: TfmdDL(ds, bs=bs, shuffle=False, drop_last=True, create_item=noop, create_batch=ds.batch,
                        after_batch=ToFloat(), num_workers=0, device='cpu')   # as `gan_dls` makes them
    dls = DataLoaders(dl(), dl(), device='cpu')
    g,c = nets(cfg, layout, ch, scaler)
    learn = CondGANLearner(dls, g, c, path=tempfile.mkdtemp(), opt_impl=opt)
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

def plain_rate(ds, cfg, layout, ch, scaler, bs, iters, opt='fused'):
    "GAN iterations/s of pix2pix's own loop: D step then G step on each batch, two Adam optimisers."
    dl = [range(i, i + bs) for i in range(0, len(ds) - bs + 1, bs)]   # the same batches, read whole
    g,c = nets(cfg, layout, ch, scaler)
    g.train(); c.train()
    kw = dict(lr=2e-4, betas=(0.5, 0.999), eps=1e-8, **{opt: True})
    opt_g,opt_d = torch.optim.Adam(g.parameters(), **kw),torch.optim.Adam(c.parameters(), **kw)
    bce = F.binary_cross_entropy_with_logits
    done,t0 = 0,None
    while True:
        for idxs in dl:
            cond,real,_ = ds.batch(idxs)
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

def bench(name, cfg, iters, bs, reps, opt='fused'):
    "Print images/s of the plain loop and the learner(s) at one preset's size, and their ratios."
    layout = FeatureLayout.from_preset(cfg); ch,size = cfg.image.channels,cfg.image.size
    d = Path(tempfile.mkdtemp())
    try:
        (cond,pix),man = make_stores(d, bs*(iters + 2)*2 + bs, layout.dim, ch*size*size)
        ds = GANPairs(cond, pix, man, 'train', ImageTarget(ch, size))
        scaler = FeatureScaler.fit(cond.array)
        args = (ds, cfg, layout, ch, scaler, bs, iters)
        runs = {'plain': lambda: plain_rate(*args, opt=opt), 'fastai': lambda: fastai_rate(*args, opt=opt)}
        got = {k: [] for k in runs}
        for _ in range(reps):
            for k,f in runs.items(): got[k].append(f()*bs)
        best,med = {k: max(v) for k,v in got.items()},{k: float(np.median(v)) for k,v in got.items()}
        line = (f"{name:7} {size}x{size}x{ch} dim={layout.dim} bs={bs:3} iters={iters:3}  "
                f"plain {best['plain']:7.1f} img/s  fastai {best['fastai']:7.1f} img/s  "
                f"ratio fastai/plain {best['fastai']/best['plain']:.2f} (medians {med['fastai']/med['plain']:.2f})")
        print(line + '   runs: ' + '; '.join(f"{k} {', '.join(f'{x:.1f}' for x in v)}" for k,v in got.items()), flush=True)
        return best
    finally: shutil.rmtree(d)

if __name__ == '__main__':
    a = argparse.ArgumentParser()
    a.add_argument('--reps', type=int, default=3)
    a.add_argument('--digits-iters', type=int, default=60); a.add_argument('--digits-bs', type=int, default=16)
    a.add_argument('--natural-iters', type=int, default=60); a.add_argument('--natural-bs', type=int, default=16)
    a.add_argument('--paper-iters', type=int, default=6); a.add_argument('--paper-bs', type=int, default=4)
    a.add_argument('--opt', default='fused', choices=['fused', 'foreach'])
    a.add_argument('--skip-paper', action='store_true')
    o = a.parse_args()
    print(f"torch threads: {torch.get_num_threads()}, device: cpu, Adam: {o.opt}", flush=True)
    bench('digits', get_preset('digits'), o.digits_iters, o.digits_bs, o.reps, o.opt)
    bench('natural', get_preset('natural'), o.natural_iters, o.natural_bs, o.reps, o.opt)
    if not o.skip_paper: bench('paper', get_preset('paper'), o.paper_iters, o.paper_bs, o.reps, o.opt)
