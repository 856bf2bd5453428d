"""
Step-by-step parity of the engine with nanoGPT (PyTorch): run by scripts/bench/parity.ts, which writes the
engine's initial parameters (nanoGPT names and layouts), the batches and the engine's per-step loss, gradient
norm and final parameters into DIR. This loads the same weights into nanoGPT's model (scripts/bench/nanogpt_torch.py),
trains on the same batches with the same schedule, clipping and AdamW, and compares.

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
model, opt = build(meta["vocab"], meta["n_layer"], meta["n_head"], meta["n_embd"], meta["block"])
params = dict(model.named_parameters())
flat = np.fromfile(os.path.join(d, "init.bin"), dtype=np.float32)
with torch.no_grad():
    for s in meta["layout"]:
        params[s["name"]].copy_(torch.from_numpy(flat[s["offset"] : s["offset"] + s["size"]].reshape(s["shape"])))
steps, B, T = meta["steps"], meta["batch"], meta["block"]
xs = torch.from_numpy(np.fromfile(os.path.join(d, "x.bin"), dtype=np.int32).astype(np.int64)).view(steps, B, T)
ys = torch.from_numpy(np.fromfile(os.path.join(d, "y.bin"), dtype=np.int32).astype(np.int64)).view(steps, B, T)
ours = meta["ours"]
worst = {"loss": 0.0, "grad_norm": 0.0}
for k in range(steps):
    for g in opt.param_groups:
        g["lr"] = get_lr(k, meta["max_iters"])
    loss = model(xs[k], ys[k])
    loss.backward()
    norm = torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0).item()
    opt.step()
    opt.zero_grad(set_to_none=True)
    lt, (lo, no) = loss.item(), ours[k]
    worst["loss"] = max(worst["loss"], abs(lt - lo) / lt)
    worst["grad_norm"] = max(worst["grad_norm"], abs(norm - no) / norm)
    if k < 3 or (k + 1) % 10 == 0:
        print(f"step {k + 1}: loss torch {lt:.6f} engine {lo:.6f} | grad norm torch {norm:.6f} engine {no:.6f}")
final = np.fromfile(os.path.join(d, "final.bin"), dtype=np.float32)
pdiff = max(
    float(np.abs(params[s["name"]].detach().numpy().reshape(-1) - final[s["offset"] : s["offset"] + s["size"]]).max())
    for s in meta["layout"]
)
ok = worst["loss"] < 1e-5 and worst["grad_norm"] < 1e-5 and pdiff < 1e-5
print(json.dumps({"bench": "nanogpt-parity", "steps": steps, "max_rel_loss_diff": worst["loss"], "max_rel_grad_norm_diff": worst["grad_norm"], "max_param_diff": pdiff, "pass": ok}))
sys.exit(0 if ok else 1)
