"""Train each learner of the method for a few batches of real digits features, as one of N launched processes or alone.

Run under a launcher (`torchrun --nproc_per_node 2 tests/ddp_learners.py RUN OUT`) or as one process with the same
global batch (`python tests/ddp_learners.py RUN OUT --emulate 2`); `tests/test_distributed.py` compares the two.
RUN is a run folder with `curation/` and `features/` (`s2i train --until features`). Rank 0 writes OUT/{kind}.json
(steps: weights in sync, mean loss; checkpoint files) and OUT/{kind}.pt (the final weights).
"""
import argparse, json
from pathlib import Path
import torch
from fastai.callback.core import Callback, CancelFitException
from s2i_nb.core import get_preset, seed_everything
from s2i_nb.curation import read_manifest
from s2i_nb.features import FeatureStore, feature_dls, kept_rows
from s2i_nb.multimodal import multimodal_learner, fit_multimodal
from s2i_nb.gan_nets import FeatureLayout, FeatureScaler
from s2i_nb.gan import train_gan_stage
from s2i_nb.feat2img import gan2_dls
from s2i_nb.snd2feat import gan1_dls
from s2i_nb.distributed import init_distributed, end_distributed, is_main, world_size, rank_bs, global_batch_order, CheckInSync, unwrap

def subset(man, n_train, n_valid):
    "The manifest with only the first `n_train` train and `n_valid` valid kept pairs left in their splits."
    man = man.copy(); kept = man.kept.astype(bool)
    for split,n in (('train', n_train), ('valid', n_valid)):
        rows = man.index[kept & (man.split == split)]
        man.loc[rows[n:], 'split'] = 'unused'
    return man

def fixed_order(dls, emulate, bs):
    "No shuffling; alone, visit the items in the order that `emulate` processes form their global batches."
    for dl in dls.loaders: dl.shuffle = False
    if emulate > 1:
        order = global_batch_order(len(dls.train.dataset), emulate, bs)
        dls.train.get_idxs = lambda: list(order)
    return dls

class Interrupt(Callback):
    "Stop the fit after `n` epochs, once their checkpoint is written (as a killed run would stop)."
    order = 90
    def __init__(self, n): self.n = n
    def after_epoch(self):
        if self.epoch + 1 == self.n: raise CancelFitException

@torch.no_grad()
def outputs(model, dls, kind):
    "What the trained network computes on the valid split: hidden features (multimodal) or generated outputs (GANs)."
    model = model.cpu().eval(); items = [dls.valid_ds[i] for i in range(len(dls.valid_ds))]
    x = [torch.stack([it[j] for it in items]) for j in range(2)]
    if kind == 'multimodal': return model.hid(*x)
    return model.generator(x[0])

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('run'); ap.add_argument('out')
    ap.add_argument('--emulate', type=int, default=1, help='alone: the process count whose global batches to reproduce')
    ap.add_argument('--bs', type=int, default=16, help='global batch')
    ap.add_argument('--n_train', type=int, default=64); ap.add_argument('--n_valid', type=int, default=16)
    ap.add_argument('--epochs', type=int, default=2)
    ap.add_argument('--kinds', default='multimodal,gan2,gan1')
    ap.add_argument('--stop_after', type=int, default=0, help='GANs: interrupt the fit after this many epochs (to test resuming)')
    a = ap.parse_args()
    init_distributed()
    world = world_size()
    bs = rank_bs(a.bs) if world > 1 else a.bs   # per process
    run, out = Path(a.run), Path(a.out); out.mkdir(parents=True, exist_ok=True)
    # a test configuration: instance norm and no dropout, so that N processes and one compute the same function
    cfg = get_preset(str(run/'config.json')).update(
        **{f'{s}.{k}': v for s in ('gan1', 'gan2') for k,v in (('norm', 'instance'), ('dropout', 0.), ('epochs', a.epochs))},
        **{'multimodal.epochs': a.epochs})
    man = subset(read_manifest(run/'curation'/'manifest.csv'), a.n_train, a.n_valid)
    img, snd, pix = (FeatureStore(run/'features'/k) for k in ('image', 'sound', 'pixels'))
    for kind in a.kinds.split(','):
        check = CheckInSync(); folder = out/kind
        seed_everything(cfg.seed)
        if kind == 'multimodal':
            dls = fixed_order(feature_dls(img, snd, man, bs=bs, device='cpu'), a.emulate, a.bs // (world*a.emulate))
            learn = multimodal_learner(dls, cfg.multimodal, cbs=[check], path=folder)
            unwrap(learn.model).out[0].p = 0.   # no dropout (see above)
            fit_multimodal(learn, cfg.multimodal, quiet=True)
            model = learn.model
        else:
            if kind == 'gan2':
                dls = gan2_dls(man, img, pix, cfg, bs=a.bs, device='cpu')
                layout, out_ch, st, out_scaler = FeatureLayout.from_preset(cfg), cfg.image.channels, cfg.gan2, None
            else:   # GAN 1's learner; sound features stand in for the multimodal ones
                scaler = FeatureScaler.fit(img.array, kept_rows([img], man, 'train')[0])
                dls = gan1_dls(man, snd, img, cfg, scaler, bs=a.bs, device='cpu')
                layout, out_ch, st, out_scaler = FeatureLayout.from_preset(cfg), 1, cfg.gan1, scaler
            fixed_order(dls, a.emulate, a.bs // (world*a.emulate))
            cbs = [check] + ([Interrupt(a.stop_after)] if a.stop_after else [])
            learn = train_gan_stage(dls, st, layout, out_ch, folder, kind, out_scaler=out_scaler, seed=cfg.seed, quiet=True, cbs=cbs)
            model = learn.model
        if is_main():
            files = sorted(str(p.relative_to(folder)) for p in folder.rglob('*') if p.is_file())
            (out/f'{kind}.json').write_text(json.dumps({'world': world, 'bs_per_process': bs, 'steps': check.steps, 'files': files}))
            torch.save({'state': {k: v.cpu() for k,v in unwrap(model).state_dict().items()}, 'outputs': outputs(unwrap(model), dls, kind)}, out/f'{kind}.pt')
    end_distributed()

if __name__ == '__main__': main()
