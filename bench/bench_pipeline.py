"""Latency of `SoundToImage` on one sound, after loading, against the bare forward passes of its networks.

    python bench/bench_pipeline.py [--run runs/digits] [--reps 50]

End to end: `model(path)` on one FSDD recording (read the file, resample and fit it to the preset's
length, sound network, multimodal layers, GAN 1, GAN 2, tensor to PIL image). Baseline: the same
networks' forward passes alone on the waveform already read and prepared, in the same process. Both
are timed `--reps` times after a warm-up; the median is reported and compared (the machine is shared
and noisy). The goal is < 50 ms per sound on the CPU. Without `--run` a short digits run is trained
first (about a minute).
"""
import argparse, statistics, tempfile, time
from pathlib import Path
import torch
from s2i_nb.core import get_preset
from s2i_nb.digits import DigitsPairs
from s2i_nb.pipeline import train
from s2i_nb.inference import SoundToImage

def median_ms(f, reps):
    f()
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter(); f(); ts.append(time.perf_counter() - t0)
    return 1000*statistics.median(ts)

if __name__ == '__main__':
    a = argparse.ArgumentParser(); a.add_argument('--run'); a.add_argument('--reps', type=int, default=50)
    o = a.parse_args()
    run = Path(o.run) if o.run else train(get_preset('digits').update(**{'multimodal.epochs': 5, 'gan2.epochs': 2, 'gan1.epochs': 2}),
                                          Path(tempfile.mkdtemp())/'run', quiet=True, num_workers=0, evaluate=False)
    m = SoundToImage.from_dir(run, device='cpu')
    wav = DigitsPairs().recordings.path.iloc[0]
    xb = torch.stack([m.ext.prep(w) for w in m.waves(wav)])
    @torch.no_grad()
    def nets_only(): return m.gan2(m.gan1.features(m.multimodal.hid(x_snd=m.ext.forward(m.sound_net, xb))))
    base = median_ms(nets_only, o.reps)
    e2e = median_ms(lambda: m(wav), o.reps)
    print(f"torch threads: {torch.get_num_threads()}, run: {run}, preset: {m.cfg.name}")
    print(f"one sound: networks alone {base:6.2f} ms   SoundToImage(path) {e2e:6.2f} ms   ratio (networks / end to end) {base/e2e:.2f}   "
          f"goal < 50 ms: {'met' if e2e < 50 else 'NOT met'}")
