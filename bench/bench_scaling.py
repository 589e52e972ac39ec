"""Scaling the GAN stages of the paper preset: images/s per process from 1 to N processes (DDP: gloo on CPUs, NCCL on
GPUs), and on a GPU the effect of bf16, channels-last, batch size and torch.compile, with memory and model FLOPs
utilisation (MFU).

    python bench/bench_scaling.py --nproc 1,2                 # CPU: DDP over gloo, 1 thread per process
    python bench/bench_scaling.py --gpu                       # one GPU: fp32 / bf16 / channels-last / compile / batch
    python bench/bench_scaling.py --nproc 1,8 --device cuda   # a machine of 8 GPUs: DDP over NCCL

Each run trains fastai's `CondGANLearner` (the paper's `gan2` or `gan1` networks, 41.8M + 2.8M parameters at
128x128) exactly as `s2i train` does (`train_ctx`: DDP, precision, memory format), on feature stores of random values
(speed does not depend on the values), and times `--steps` training batches after `--warmup` batches. The batch per
process is fixed (weak scaling: N processes train a global batch N times larger): scaling efficiency = images/s of N
processes / (N x images/s of one), both measured in this run. One training batch is one update of one network
(fastai alternates critic and generator batches). MFU = counted model FLOPs (matmuls and convolutions, forward and
backward, `torch.utils.flop_counter`) per second / the card's dense bf16 peak.
"""
import argparse, json, os, shutil, subprocess, sys, tempfile, time
from pathlib import Path
import numpy as np, pandas as pd, torch

def make_stores(d:Path, n:int, dim:int, target:int, n_valid:int, target_dtype:str):
    "Feature stores of `n` random rows (conditions, targets) and a manifest with `n_valid` of them held out."
    from s2i_nb.features import FeatureStore
    rng = np.random.default_rng(0); ids = [str(i) for i in range(n)]
    for name,width,dt in (('cond', dim, 'float32'), ('target', target, target_dtype)):
        meta = dict(extractor=name, weights='-', layer='-', preprocessing='-', dim=width, dtype=dt, preset='bench',
                    preset_hash='-', manifest_hash='-', chunk_size=n, n=n, ids=ids)
        FeatureStore.create(d/name, meta)
        a = np.load(d/name/'features.npy', mmap_mode='r+')
        for i in range(0, n, 1024): a[i:i+1024] = rng.uniform(-1, 1, (min(1024, n - i), width)).astype(dt)
        a.flush(); del a
        (d/name/'done'/'000000').touch()
    split = ['train']*(n - n_valid) + ['valid']*n_valid
    pd.DataFrame(dict(id=ids, kept=True, label='0', split=split)).to_csv(d/'manifest.csv', index=False)

def stage_parts(cfg, stage):
    "Layout, output channels, target transform and output scaler of a stage."
    from s2i_nb.gan_nets import FeatureLayout, FeatureScaler
    from s2i_nb.gan_data import ImageTarget, GridTarget
    layout = FeatureLayout.from_preset(cfg)
    if stage == 'gan2': return layout, cfg.image.channels, ImageTarget(cfg.image.channels, cfg.image.size), None
    sc = FeatureScaler(layout.dim); return layout, 1, GridTarget(layout, sc), sc

def learner(d, stage, bs, num_workers, device, preset='paper'):
    "A `CondGANLearner` of a preset's stage (default: the paper's) on the stores in `d`, `bs` items per process."
    from s2i_nb.core import get_preset, seed_everything
    from s2i_nb.features import FeatureStore
    from s2i_nb.gan_nets import gan_nets, FeatureScaler
    from s2i_nb.gan_data import gan_dls
    from s2i_nb.gan import CondGANLearner
    cfg = get_preset(preset); st = getattr(cfg, stage)
    layout, ch, tfm, out_sc = stage_parts(cfg, stage)
    man = pd.read_csv(d/'manifest.csv', dtype={'id': str, 'label': str})
    dls = gan_dls(FeatureStore(d/'cond'), FeatureStore(d/'target'), man, tfm, bs=bs, device=device,
                  num_workers=num_workers, pin_memory=torch.device(device).type == 'cuda')
    seed_everything(0)
    g,c = gan_nets(st, layout, ch, FeatureScaler.fit(dls.train_ds.cond, dls.train_ds.rows), out_sc)
    return CondGANLearner.from_config(dls, st, g, c, path=tempfile.mkdtemp())

def worker(a):
    "One process of a run: train `warmup + steps` batches, rank 0 prints the figures as JSON."
    from fastai.callback.core import Callback, CancelFitException
    from s2i_nb.distributed import init_distributed, end_distributed, train_ctx, Speed, world_size, is_main, gather_objects
    from s2i_nb.core import get_device
    init_distributed()
    dev = get_device(a.device)
    learn = learner(Path(a.stores), a.stage, a.bs, a.num_workers, dev)
    cuda = dev.type == 'cuda'
    class Timer(Callback):
        order = 99
        def after_batch(self):
            if not self.training: return
            self.n = getattr(self, 'n', 0) + 1
            if self.n in (a.warmup, a.warmup + a.steps):
                if cuda: torch.cuda.synchronize(dev)
                if self.n == a.warmup: self.t0 = time.perf_counter()
                else: self.dt = time.perf_counter() - self.t0; raise CancelFitException()
    t = Timer()
    with train_ctx(learn, Speed(a.precision, a.channels_last, a.compile), gan=True):
        with learn.no_bar(), learn.no_logging(): learn.fit(10**6, cbs=t)
    per = a.bs*a.steps/t.dt
    rates = gather_objects(per)
    mem = torch.cuda.max_memory_allocated(dev)/2**30 if cuda else None
    if is_main(): print('RESULT ' + json.dumps(dict(nproc=world_size(), per_process=rates, total=sum(rates), memory_gib=mem)), flush=True)
    end_distributed()

def stage_dims(stage, preset='paper'):
    "Condition and target widths of a preset's stage (GAN 2: pixels, GAN 1: an image feature)."
    from s2i_nb.core import get_preset
    cfg = get_preset(preset); dim = cfg.features.dim
    return dim, (cfg.image.channels*cfg.image.size**2 if stage == 'gan2' else dim)

def flops_per_image(stage, device, bs=2, preset='paper'):
    "Model FLOPs of one critic batch + one generator batch, per image (fp32 count; precision does not change it)."
    from torch.utils.flop_counter import FlopCounterMode
    from fastai.callback.core import Callback, CancelFitException
    d = Path(tempfile.mkdtemp())
    try:
        make_stores(d, 4*bs, *stage_dims(stage, preset), bs, 'float32')
        learn = learner(d, stage, bs, 0, device, preset)
        class Two(Callback):
            def after_batch(self):
                self.n = getattr(self, 'n', 0) + 1
                if self.n == 2: raise CancelFitException()
        fc = FlopCounterMode(display=False)
        with fc, learn.no_bar(), learn.no_logging(): learn.fit(1, cbs=Two())
        return fc.get_total_flops()/bs
    finally: shutil.rmtree(d)

def peak_tflops(name:str) -> float | None:
    "Dense bf16 peak of known cards (TFLOP/s)."
    for k,v in (('H100 PCIe', 756.), ('H100', 989.4), ('H200', 989.4), ('A100', 312.), ('L40S', 362.), ('A10', 125.)):
        if k in name: return v

def launch(a, stores, nproc, **over):
    "Run `worker` as `nproc` processes (torchrun), return rank 0's figures."
    opts = {**vars(a), **over, 'stores': str(stores)}
    argv = [sys.argv[0], '--worker']
    for k,v in opts.items():
        if k in ('worker', 'gpu', 'nproc') or v is None: continue
        if k == 'compile': argv += ['--compile'] if v else []
        else: argv += [f'--{k}', str(v)]
    env = {**os.environ, 'OMP_NUM_THREADS': str(a.threads)}
    cmd = [sys.executable, '-m', 'torch.distributed.run', '--standalone', '--nproc_per_node', str(nproc)] + argv
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    line = [l for l in r.stdout.splitlines() if l.startswith('RESULT ')]
    if r.returncode or not line: raise RuntimeError(f"run failed ({r.returncode}):\n{r.stderr[-3000:]}")
    return json.loads(line[0][7:])

def main():
    p = argparse.ArgumentParser()
    p.add_argument('--worker', action='store_true'); p.add_argument('--stores')
    p.add_argument('--stage', default='gan2'); p.add_argument('--device', default=None)
    p.add_argument('--bs', type=int, default=None, help='batch per process (default: 4 on CPUs, 64 on GPUs)')
    p.add_argument('--warmup', type=int, default=4); p.add_argument('--steps', type=int, default=8)
    p.add_argument('--precision', default='auto'); p.add_argument('--channels_last', type=lambda s: s == 'True', default=None)
    p.add_argument('--compile', action='store_true'); p.add_argument('--num_workers', type=int, default=0)
    p.add_argument('--threads', type=int, default=1, help='CPU threads per process')
    p.add_argument('--nproc', default='1,2', help='process counts to compare')
    p.add_argument('--gpu', action='store_true', help='one GPU: compare precision, memory format and batch (and compile, with --compile)')
    a = p.parse_args()
    if a.worker: return worker(a)
    from s2i_nb.core import get_device
    dev = get_device(a.device); cuda = dev.type == 'cuda'
    a.bs = a.bs or (64 if cuda else 4)
    name = torch.cuda.get_device_name(dev) if cuda else f'CPU ({os.cpu_count()} cores)'
    print(f"device: {name}; torch {torch.__version__}; stage {a.stage} of the paper preset")
    fpi = flops_per_image(a.stage, dev)
    print(f"model FLOPs per training image (one critic batch + one generator batch, per image): {fpi/1e9:.1f} GFLOP")
    d = Path(tempfile.mkdtemp())
    try:
        runs = [(r, a.bs, {}) for r in map(int, a.nproc.split(','))]
        if a.gpu:
            runs = [(1, b, dict(precision=pr, channels_last=cl, compile=co)) for pr,cl,b,co in
                    (('fp32', False, 64, False), ('bf16', True, 64, False), ('bf16', False, 256, False),
                     ('bf16', True, 256, False), ('bf16', True, 512, False)) + ((('bf16', True, 256, True),) if a.compile else ())]
        biggest = max(b*int(n) for n,b,_ in runs)
        n_rows = biggest*(a.warmup + a.steps) // 2 + biggest   # about two epochs (an epoch boundary validates once)
        make_stores(d, n_rows, 4096, 3*128*128 if a.stage == 'gan2' else 4096, biggest, 'float16' if a.stage == 'gan2' else 'float32')
        peak = peak_tflops(name) if cuda else None
        base = None
        for n,b,over in runs:
            if cuda: over = {'num_workers': 6, **over}
            r = launch(a, d, n, bs=b, **over)
            per = r['total']/n; base = base or per
            mfu = f"  MFU {r['total']*fpi/2/1e12/n/peak:6.1%}" if peak else ''   # fpi counts two batches
            mem = f"  memory {r['memory_gib']:.1f} GiB" if r['memory_gib'] else ''
            desc = ' '.join(f'{k}={v}' for k,v in over.items() if k != 'num_workers') or f'threads/process={a.threads}'
            print(f"{n} process(es) x bs {b:4}  {desc:45}  {r['total']:9.1f} images/s  ({per:8.1f} per process, "
                  f"x{per/base:.2f} of the first row per process){mfu}{mem}", flush=True)
    finally: shutil.rmtree(d)

if __name__ == '__main__': main()
