"""The natural preset's training views of each sound, extracted anew against read from the shared memo.

    python bench/bench_views_memo.py [--clips 48] [--num_workers 2]

The `natural` preset trains its multimodal layers on twelve views of each ESC-50 clip (3 gains x 4 circular
shifts, `sound_views`): twelve passes of the real SoundNet per clip. Every run of a cross-validation needs the
views of nearly the same clips, so `run_features` passes `cache=s2i_home('features')` to `extract_features`,
which keeps one row per clip (`FeatureMemo`) and runs SoundNet only on clips it has not seen. Three extractions of
the same `--clips` clips into fresh stores, in this process: without a memo (the baseline), with an empty memo
(the first run of a cross-validation: the same work, plus writing the rows) and with the memo filled (every later
run). Prints each one's seconds and its ratio to the baseline, and checks that the rows read back are the ones
the first extraction made.
"""
import argparse, shutil, tempfile, time
from pathlib import Path
import numpy as np, pandas as pd
from s2i_nb.core import get_preset
from s2i_nb.natural import NaturalPairs
from s2i_nb.networks import get_extractor
from s2i_nb.features import extract_features, views_extractor, sound_views

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--clips', type=int, default=48); p.add_argument('--num_workers', type=int, default=2)
    a = p.parse_args()
    cfg = get_preset('natural'); src = NaturalPairs(cfg=cfg)
    firsts = pd.Series([p.id for p in src.pairs]).groupby([str(p.sound) for p in src.pairs]).first()   # a pair per clip
    man = pd.DataFrame(dict(id=firsts.iloc[:a.clips].tolist(), kept=True))
    views = sound_views(cfg.multimodal.view_gains, cfg.multimodal.view_shifts)
    ext = views_extractor(get_extractor(cfg.features.sound_extractor), views)
    model = get_extractor(cfg.features.sound_extractor).build(cfg)
    d = Path(tempfile.mkdtemp())
    try:
        def timed(name, cache=None):
            t0 = time.perf_counter()
            st = extract_features(man, ext, d/name, src, model=model, bs=16, cache=cache, num_workers=a.num_workers, quiet=True)
            return time.perf_counter() - t0, np.asarray(st.array)
        base, rows = timed('plain')
        cold, written = timed('cold', d/'memo')
        warm, again = timed('warm', d/'memo')
        assert np.array_equal(again, written), "the memo's rows are not the ones written"
        print(f"{a.clips} clips x {len(views)} views of the real SoundNet ({cfg.features.sound_extractor}):")
        print(f"  no memo (baseline)      {base:7.1f} s   1.00")
        print(f"  empty memo (first run)  {cold:7.1f} s   {cold/base:5.2f}")
        print(f"  filled memo (later run) {warm:7.1f} s   {warm/base:5.3f}   ({base/warm:.0f}x faster)")
        print(f"  largest difference, memo rows vs extracted without one: {np.abs(again - rows).max():.1e}")
    finally: shutil.rmtree(d)

if __name__ == '__main__': main()
