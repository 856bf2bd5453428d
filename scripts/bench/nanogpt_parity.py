"""
Step-by-step parity of the engine with nanoGPT (PyTorch): run by scripts/bench/parity.ts, which writes into DIR
the engine's initial parameters (nanoGPT names and layouts), its per-step loss and gradient norm, its final
parameters and, depending on the mode:

- seeded: every batch draw's offsets (in the order drawn) and the evaluation losses. This does
  `torch.manual_seed(seed)`, builds nanoGPT's GPT (scripts/bench/nanogpt_torch.py) and compares its initial
  parameters with the engine's (also for the extra configurations in meta.json), then runs train.py's loop:
  one get_batch('train') before the loop, estimate_loss every eval_interval iterations before the step, and
  each step trains on the prefetched batch and draws the next. Batch offsets must be identical, losses close.
- weights: the batches (x.bin, y.bin); the engine's initial weights are loaded into nanoGPT and trained on
  the same batches (the arithmetic alone).

  python3 scripts/bench/nanogpt_parity.py DIR
"""
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nanogpt_torch import build, get_lr  # noqa: E402

d = sys.argv[1]
meta = json.load(open(os.path.join(d, "meta.json")))
torch.set_num_threads(1)
seeded = meta["mode"] == "seeded"


def flat_of(model, layout):
    params = dict(model.named_parameters())
    return np.concatenate([params[s["name"]].detach().numpy().reshape(-1) for s in layout])


def init_diff(m, file):
    """Builds nanoGPT's GPT after torch.manual_seed(seed); max |torch - engine| over the initial parameters."""
    torch.manual_seed(meta["seed"])
    model, opt = build(m["vocab"], m["n_layer"], m["n_head"], m["n_embd"], m["block"], bias=m["bias"])
    ours = np.fromfile(os.path.join(d, file), dtype=np.float32)
    theirs = flat_of(model, m["layout"])
    return model, opt, float(np.abs(theirs - ours).max()), int((theirs != ours).sum())


report = {"bench": "nanogpt-parity", "mode": meta["mode"], "steps": meta["steps"]}
steps, B, T = meta["steps"], meta["batch"], meta["block"]
ok = True
if seeded:
    for i, m in enumerate(meta["extra_inits"]):
        _, _, diff, n = init_diff(m, m["file"])
        report[f"extra{i}_init_max_diff"] = diff
        ok = ok and diff == 0
    model, opt, diff, n = init_diff(meta, "init.bin")  # leaves the generator where train.py has it
    report["init_max_diff"], report["init_values_differing"] = diff, n
    ok = ok and diff == 0
    data = {s: np.memmap(os.path.join(meta["data"], f"{s}.bin"), dtype=np.uint16, mode="r") for s in ("train", "val")}
    draws = iter(meta["draws"])
    n_draws, first_bad = 0, None

    def get_batch(split):
        global n_draws, first_bad
        ix = torch.randint(len(data[split]) - T, (B,))
        theirs = next(draws, None)
        if first_bad is None and (theirs is None or theirs["split"] != split or theirs["offsets"] != ix.tolist()):
            first_bad = n_draws
        n_draws += 1
        x = torch.stack([torch.from_numpy(data[split][i : i + T].astype(np.int64)) for i in ix])
        y = torch.stack([torch.from_numpy(data[split][i + 1 : i + 1 + T].astype(np.int64)) for i in ix])
        return x, y

    @torch.no_grad()
    def estimate_loss():
        out = {}
        model.eval()
        for split in ["train", "val"]:
            losses = torch.zeros(meta["eval_iters"])
            for k in range(meta["eval_iters"]):
                losses[k] = model(*get_batch(split)).item()
            out[split] = losses.mean().item()
        model.train()
        return out

    X, Y = get_batch("train")
else:
    model, opt = build(meta["vocab"], meta["n_layer"], meta["n_head"], meta["n_embd"], meta["block"])
    params = dict(model.named_parameters())
    flat = np.fromfile(os.path.join(d, "init.bin"), dtype=np.float32)
    with torch.no_grad():
        for s in meta["layout"]:
            params[s["name"]].copy_(torch.from_numpy(flat[s["offset"] : s["offset"] + s["size"]].reshape(s["shape"])))
    xs = torch.from_numpy(np.fromfile(os.path.join(d, "x.bin"), dtype=np.int32).astype(np.int64)).view(steps, B, T)
    ys = torch.from_numpy(np.fromfile(os.path.join(d, "y.bin"), dtype=np.int32).astype(np.int64)).view(steps, B, T)

ours = meta["ours"]
evals = iter(meta["evals"])
worst = {"loss": 0.0, "grad_norm": 0.0, "eval": 0.0}
for k in range(steps):
    for g in opt.param_groups:
        g["lr"] = get_lr(k, meta["max_iters"])
    if seeded and k % meta["eval_interval"] == 0:
        e, o = estimate_loss(), next(evals)
        for split in ("train", "val"):
            worst["eval"] = max(worst["eval"], abs(e[split] - o[split]) / e[split])
        print(f"step {k}: eval torch train {e['train']:.6f} val {e['val']:.6f} | engine train {o['train']:.6f} val {o['val']:.6f}")
    if seeded:
        loss = model(X, Y)
        X, Y = get_batch("train")
    else:
        loss = model(xs[k], ys[k])
    loss.backward()
    norm = torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0).item()
    opt.step()
    opt.zero_grad(set_to_none=True)
    lt, (lo, no) = loss.item(), ours[k]
    worst["loss"] = max(worst["loss"], abs(lt - lo) / lt)
    worst["grad_norm"] = max(worst["grad_norm"], abs(norm - no) / norm)
    if k < 3 or (k + 1) % 50 == 0:
        print(f"step {k + 1}: loss torch {lt:.6f} engine {lo:.6f} | grad norm torch {norm:.6f} engine {no:.6f}")
final = np.fromfile(os.path.join(d, "final.bin"), dtype=np.float32)
pdiff = float(np.abs(flat_of(model, meta["layout"]) - final).max())
report.update(max_rel_loss_diff=worst["loss"], max_rel_grad_norm_diff=worst["grad_norm"], max_param_diff=pdiff)
tol = 1e-5
if seeded:
    if n_draws != len(meta["draws"]) and first_bad is None:
        first_bad = min(n_draws, len(meta["draws"]))
    report.update(batch_draws=n_draws, batch_draws_identical=first_bad is None, max_rel_eval_diff=worst["eval"])
    if first_bad is not None:
        report["first_differing_draw"] = first_bad
    ok = ok and first_bad is None and worst["eval"] < tol
ok = ok and worst["loss"] < tol and worst["grad_norm"] < tol and pdiff < tol
report["pass"] = bool(ok)
print(json.dumps(report))
sys.exit(0 if ok else 1)
