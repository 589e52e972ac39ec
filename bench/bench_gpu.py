"""The GPU check of the GAN stages: MFU, images/s and peak memory of each stage, eager against `torch.compile`.

    python bench/bench_gpu.py                      # a GPU: the paper's stages, bf16 + channels-last, bs 256
    python bench/bench_gpu.py --device cpu --tiny  # smoke test of the same path on a CPU (digits-size networks, fp32)

Each run trains `CondGANLearner` exactly as `s2i train` does (`train_ctx`: precision, memory format, compilation;
pix2pix's iteration, a critic then a generator step on each batch sharing one generator forward; PyTorch's fused Adam)
on feature stores of random values, and times `--steps` training steps (two per GAN iteration) after `--warmup` steps
(compilation and recompilations happen there). Printed per stage and mode:

- images/s: images trained per second, one GAN iteration (critic + generator update) per image;
- MFU: counted model FLOPs (matmuls and convolutions, forward and backward, `torch.utils.flop_counter`) per second
  / the card's dense bf16 peak (989 TFLOP/s for an H100 SXM);
- peak memory (`torch.cuda.max_memory_allocated`);
- compiled graphs after warm-up and after timing (`torch._dynamo.utils.counters`): a count that grows while timing
  means recompilation in the loop; recompile reasons are printed with `--explain`
  (`torch._logging.set_logs(recompiles=True)`).

The last line is `RESULT {json}` with every figure. `bench/bench_gpu.sh` runs the whole check (under 8 minutes on one
H100) with the batch size and steps it was sized for.
"""
import argparse, json, os, sys, tempfile, time, shutil
from pathlib import Path
import torch
sys.path.insert(0, str(Path(__file__).parent))
from bench_scaling import make_stores, stage_dims, learner, flops_per_image, peak_tflops

def _graphs() -> int:
    "Graphs `torch.compile` has captured so far in this process."
    from torch._dynamo.utils import counters
    return counters['stats']['unique_graphs']

def time_stage(d:Path, stage:str, a, compiled:bool) -> dict:
    "Train `warmup + steps` steps of `stage` on the stores in `d`; return images/s, memory and graph counts."
    from fastai.callback.core import Callback, CancelFitException
    from s2i_nb.distributed import train_ctx, Speed
    dev = torch.device(a.device); cuda = dev.type == 'cuda'
    torch._dynamo.reset(); torch._dynamo.utils.counters.clear()
    learn = learner(d, stage, a.bs, a.num_workers, dev, a.preset)
    sync = (lambda: torch.cuda.synchronize(dev)) if cuda else (lambda: None)
    class Timer(Callback):
        "Time steps `warmup`..`warmup + steps` (whole GAN iterations), then stop."
        order = 99
        def before_fit(self): self.n = 0
        def after_batch(self):
            if not self.training: return
            self.n += 1
            if self.n == a.warmup: sync(); self.g0 = _graphs(); self.t0 = time.perf_counter()
            if self.n == a.warmup + a.steps:
                sync(); self.dt = time.perf_counter() - self.t0; self.g1 = _graphs(); raise CancelFitException()
    t = Timer()
    if cuda: torch.cuda.reset_peak_memory_stats(dev)
    t_start = time.perf_counter()
    with train_ctx(learn, Speed(a.precision, a.channels_last, compiled), gan=True):
        with learn.no_bar(), learn.no_logging(): learn.fit(10**6, cbs=t)
    return dict(stage=stage, mode='compile' if compiled else 'eager', images_s=a.bs*a.steps/2/t.dt,
                step_ms=1e3*t.dt/a.steps, memory_gib=torch.cuda.max_memory_allocated(dev)/2**30 if cuda else None,
                graphs_warm=t.g0, graphs_end=t.g1, wall_s=time.perf_counter() - t_start)

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    p.add_argument('--tiny', action='store_true', help='digits-size networks and a few steps (CPU smoke test)')
    p.add_argument('--stages', default='gan2,gan1'); p.add_argument('--modes', default='eager,compile')
    p.add_argument('--bs', type=int, default=None, help='batch (default: 256 on a GPU, 4 with --tiny)')
    p.add_argument('--warmup', type=int, default=None, help='untimed steps (even; default 10, 2 with --tiny)')
    p.add_argument('--steps', type=int, default=None, help='timed steps (even; default 20, 2 with --tiny)')
    p.add_argument('--precision', default=None, help="default: 'bf16' on a GPU, 'fp32' on a CPU")
    p.add_argument('--channels_last', type=lambda s: s == 'True', default=True)
    p.add_argument('--num_workers', type=int, default=None, help='loader workers (default: 6 on a GPU, 0 on a CPU)')
    p.add_argument('--budget', type=float, default=420., help='seconds: runs that would start later are skipped')
    p.add_argument('--explain', action='store_true', help='log the reason of every recompilation')
    a = p.parse_args(argv)
    cuda = torch.device(a.device).type == 'cuda'
    a.preset = 'digits' if a.tiny else 'paper'
    a.bs = a.bs or (4 if a.tiny else 256)
    a.warmup = a.warmup or (2 if a.tiny else 10); a.steps = a.steps or (2 if a.tiny else 20)
    if a.warmup % 2 or a.steps % 2: p.error('--warmup and --steps must be even (two steps per GAN iteration)')
    a.precision = a.precision or ('bf16' if cuda else 'fp32')
    a.num_workers = 6 if a.num_workers is None and cuda else (a.num_workers or 0)
    if a.explain: torch._logging.set_logs(recompiles=True)
    if cuda: torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True
    name = torch.cuda.get_device_name(a.device) if cuda else f'CPU ({os.cpu_count()} cores)'
    peak = peak_tflops(name) if cuda else None
    print(f"device: {name}; torch {torch.__version__}; preset {a.preset}; bs {a.bs}; {a.precision}; "
          f"channels-last {a.channels_last}; steps {a.warmup} + {a.steps}; peak {peak or '-'} TFLOP/s", flush=True)
    t0,rows = time.perf_counter(),[]
    for stage in a.stages.split(','):
        fpi = flops_per_image(stage, a.device, preset=a.preset)
        d = Path(tempfile.mkdtemp())
        try:
            n_train = a.bs*((a.warmup + a.steps)//2 + 1)   # one epoch holds every timed step (no validation)
            make_stores(d, n_train + a.bs, *stage_dims(stage, a.preset), a.bs, 'float16' if stage == 'gan2' else 'float32')
            for mode in a.modes.split(','):
                if time.perf_counter() - t0 > a.budget: print(f"{stage} {mode}: skipped (over --budget)"); continue
                r = time_stage(d, stage, a, mode == 'compile')
                r['gflop_per_image'] = fpi/1e9
                r['mfu'] = r['images_s']*fpi/1e12/peak if peak else None
                rows.append(r)
                mfu = f"MFU {r['mfu']:6.1%}" if peak else 'MFU -'
                mem = f"{r['memory_gib']:5.1f} GiB" if r['memory_gib'] is not None else '- GiB'
                print(f"{stage} {mode:7}  {r['images_s']:9.1f} images/s  {r['step_ms']:8.1f} ms/step  {mfu}  peak {mem}  "
                      f"graphs {r['graphs_warm']} after warm-up, {r['graphs_end']} after timing  "
                      f"({fpi/1e9:.1f} GFLOP/image, run {r['wall_s']:.0f} s)", flush=True)
        finally: shutil.rmtree(d)
    print(f"total {time.perf_counter() - t0:.0f} s")
    print('RESULT ' + json.dumps(dict(device=name, bs=a.bs, precision=a.precision, rows=rows)), flush=True)
    return rows

if __name__ == '__main__': main()
