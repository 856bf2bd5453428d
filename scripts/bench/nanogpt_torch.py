"""
PyTorch baseline for `npm run bench:train`: a faithful, minimal nanoGPT (karpathy/nanoGPT model.py +
train.py, written down again here) training the same cpu-tiny configuration on the same prepared
tiny-shakespeare char dataset (train.bin / val.bin, uint16), printing the same JSON fields.

Debian bookworm: apt-get install python3-torch libopenblas0-pthread (PyTorch 1.13). Debian's torch
links the slow reference BLAS by default; put OpenBLAS first:

  LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-pthread OPENBLAS_NUM_THREADS=2 \
    /usr/bin/python3 scripts/bench/nanogpt_torch.py --data /tmp/xai-link-engine-cache/shakespeare_char \
    --iters 2000 --torch-threads 1

PyTorch 1.13 has no scaled_dot_product_attention, so attention is nanoGPT's explicit masked path; on
PyTorch 2 it is nanoGPT's flash path (F.scaled_dot_product_attention), as nanoGPT picks.

On a GPU (scripts/device-check.sh): --device cuda trains as nanoGPT's train.py does there: fp32 with
TF32 matrix products allowed (train.py sets both allow_tf32 flags), or --dtype bfloat16 (autocast, its
default) with --compile (torch.compile, its default); fused AdamW when available.
"""
import argparse
import json
import math
import os
import resource
import statistics
import time

import numpy as np
import torch
import torch.nn as nn
from torch.nn import functional as F

class LayerNorm(nn.Module):
    def __init__(self, ndim, bias):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(ndim))
        self.bias = nn.Parameter(torch.zeros(ndim)) if bias else None

    def forward(self, x):
        return F.layer_norm(x, self.weight.shape, self.weight, self.bias, 1e-5)


class CausalSelfAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c_attn = nn.Linear(c.n_embd, 3 * c.n_embd, bias=c.bias)
        self.c_proj = nn.Linear(c.n_embd, c.n_embd, bias=c.bias)
        self.attn_dropout = nn.Dropout(c.dropout)
        self.resid_dropout = nn.Dropout(c.dropout)
        self.n_head, self.n_embd = c.n_head, c.n_embd
        self.register_buffer("bias", torch.tril(torch.ones(c.block_size, c.block_size)).view(1, 1, c.block_size, c.block_size))

        self.flash = hasattr(F, "scaled_dot_product_attention")
        self.dropout = c.dropout

    def forward(self, x):
        B, T, C = x.size()
        q, k, v = self.c_attn(x).split(self.n_embd, dim=2)
        k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        if self.flash:
            y = F.scaled_dot_product_attention(q, k, v, dropout_p=self.dropout if self.training else 0, is_causal=True)
            y = y.transpose(1, 2).contiguous().view(B, T, C)
            return self.resid_dropout(self.c_proj(y))
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
        att = att.masked_fill(self.bias[:, :, :T, :T] == 0, float("-inf"))
        att = self.attn_dropout(F.softmax(att, dim=-1))
        y = (att @ v).transpose(1, 2).contiguous().view(B, T, C)
        return self.resid_dropout(self.c_proj(y))


class MLP(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c_fc = nn.Linear(c.n_embd, 4 * c.n_embd, bias=c.bias)
        self.gelu = nn.GELU()
        self.c_proj = nn.Linear(4 * c.n_embd, c.n_embd, bias=c.bias)
        self.dropout = nn.Dropout(c.dropout)

    def forward(self, x):
        return self.dropout(self.c_proj(self.gelu(self.c_fc(x))))


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.ln_1 = LayerNorm(c.n_embd, c.bias)
        self.attn = CausalSelfAttention(c)
        self.ln_2 = LayerNorm(c.n_embd, c.bias)
        self.mlp = MLP(c)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class Cfg:
    pass


class GPT(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        self.transformer = nn.ModuleDict(
            dict(
                wte=nn.Embedding(c.vocab_size, c.n_embd),
                wpe=nn.Embedding(c.block_size, c.n_embd),
                drop=nn.Dropout(c.dropout),
                h=nn.ModuleList([Block(c) for _ in range(c.n_layer)]),
                ln_f=LayerNorm(c.n_embd, c.bias),
            )
        )
        self.lm_head = nn.Linear(c.n_embd, c.vocab_size, bias=False)
        self.transformer.wte.weight = self.lm_head.weight
        self.apply(self._init_weights)
        for pn, p_ in self.named_parameters():
            if pn.endswith("c_proj.weight"):
                torch.nn.init.normal_(p_, mean=0.0, std=0.02 / math.sqrt(2 * c.n_layer))

    def _init_weights(self, m):
        if isinstance(m, nn.Linear):
            torch.nn.init.normal_(m.weight, mean=0.0, std=0.02)
            if m.bias is not None:
                torch.nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Embedding):
            torch.nn.init.normal_(m.weight, mean=0.0, std=0.02)

    def forward(self, idx, targets):
        b, t = idx.size()
        pos = torch.arange(0, t, dtype=torch.long, device=idx.device)
        x = self.transformer.drop(self.transformer.wte(idx) + self.transformer.wpe(pos))
        for block in self.transformer.h:
            x = block(x)
        logits = self.lm_head(self.transformer.ln_f(x))
        return F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1), ignore_index=-1)


def build(vocab=65, n_layer=4, n_head=4, n_embd=128, block=64, dropout=0.0, bias=False, device="cpu"):
    """nanoGPT's model and AdamW (decay on >=2-D parameters), shakespeare_char hyperparameters."""
    c = Cfg()
    c.vocab_size, c.n_layer, c.n_head, c.n_embd = vocab, n_layer, n_head, n_embd
    c.block_size, c.bias, c.dropout = block, bias, dropout
    model = GPT(c).to(device)
    decay = [p_ for p_ in model.parameters() if p_.dim() >= 2]
    nodecay = [p_ for p_ in model.parameters() if p_.dim() < 2]
    extra = {"fused": True} if device == "cuda" and "fused" in torch.optim.AdamW.__init__.__code__.co_varnames else {}
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": nodecay, "weight_decay": 0.0}], lr=1e-3, betas=(0.9, 0.99), **extra)
    return model, opt


def get_lr(it, decay_iters, lr=1e-3, min_lr=1e-4, warmup=100):
    if it < warmup:
        return lr * (it + 1) / (warmup + 1)
    if it > decay_iters:
        return min_lr
    ratio = (it - warmup) / (decay_iters - warmup)
    return min_lr + 0.5 * (1.0 + math.cos(math.pi * ratio)) * (lr - min_lr)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data", required=True, help="dataset dir with train.bin / val.bin (uint16)")
    p.add_argument("--iters", type=int, default=2000)
    p.add_argument("--torch-threads", type=int, default=1)
    p.add_argument("--eval-interval", type=int, default=250)
    p.add_argument("--eval-iters", type=int, default=20)
    p.add_argument("--vocab", type=int, default=65)
    p.add_argument("--n-layer", type=int, default=4)
    p.add_argument("--n-head", type=int, default=4)
    p.add_argument("--n-embd", type=int, default=128)
    p.add_argument("--block", type=int, default=64)
    p.add_argument("--batch", type=int, default=12)
    p.add_argument("--dropout", type=float, default=0.0)
    p.add_argument("--seed", type=int, default=1337)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    p.add_argument("--dtype", default="float32", choices=["float32", "bfloat16"])
    p.add_argument("--compile", action="store_true")
    p.add_argument("--quiet", action="store_true")
    args = p.parse_args()
    torch.set_num_threads(args.torch_threads)
    torch.manual_seed(args.seed)
    cuda = args.device == "cuda"
    if cuda:
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    model, opt = build(args.vocab, args.n_layer, args.n_head, args.n_embd, args.block, args.dropout, device=args.device)
    raw_model = model
    compile_s = 0.0
    if args.compile:
        t0 = time.time()
        model = torch.compile(model)
        compile_s = time.time() - t0
    import contextlib
    autocast = (
        torch.autocast(device_type="cuda", dtype=torch.bfloat16) if cuda and args.dtype == "bfloat16" else contextlib.nullcontext()
    )
    params = sum(p_.numel() for p_ in raw_model.parameters())
    def get_batch(split):
        data = np.memmap(os.path.join(args.data, f"{split}.bin"), dtype=np.uint16, mode="r")
        ix = torch.randint(len(data) - args.block, (args.batch,))
        x = torch.stack([torch.from_numpy(data[i : i + args.block].astype(np.int64)) for i in ix])
        y = torch.stack([torch.from_numpy(data[i + 1 : i + 1 + args.block].astype(np.int64)) for i in ix])
        if cuda:
            x, y = x.pin_memory().to(args.device, non_blocking=True), y.pin_memory().to(args.device, non_blocking=True)
        return x, y


    @torch.no_grad()
    def estimate_loss():
        out = {}
        model.eval()
        for split in ["train", "val"]:
            losses = torch.zeros(args.eval_iters)
            for k in range(args.eval_iters):
                with autocast:
                    losses[k] = model(*get_batch(split)).item()
            out[split] = losses.mean().item()
        model.train()
        return out


    times = []
    last = {}
    start = time.time()
    X, Y = get_batch("train")
    step_losses = []
    for it in range(args.iters + 1):
        for g in opt.param_groups:
            g["lr"] = get_lr(it, args.iters, lr=args.lr, min_lr=args.lr / 10)
        if it % args.eval_interval == 0 or it == args.iters:
            last = estimate_loss()
            if not args.quiet:
                print(f"step {it}: train loss {last['train']:.4f}, val loss {last['val']:.4f}", flush=True)
        if it == args.iters:
            break
        t0 = time.time()
        with autocast:
            loss = model(X, Y)
        X, Y = get_batch("train")
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        lossf = loss.item()  # synchronises the GPU: the step's time is all of its work
        step_losses.append(lossf)
        times.append((time.time() - t0) * 1000)
        if not args.quiet and it % 100 == 0:
            print(f"iter {it}: loss {lossf:.4f}, time {times[-1]:.2f}ms", flush=True)
    
    ms = statistics.median(times[min(10, len(times) - 1) :])
    tokens = args.batch * args.block
    print(
        json.dumps(
            dict(
                bench="train-pytorch",
                torch=torch.__version__,
                device=args.device if not cuda else torch.cuda.get_device_name(0),
                dtype=args.dtype,
                compiled=args.compile,
                tf32=bool(cuda),
                batch=args.batch,
                block=args.block,
                first_step_ms=round(times[0], 1) if times else None,
                loss_first=round(step_losses[0], 4) if step_losses else None,
                loss_last10=round(sum(step_losses[-10:]) / max(1, len(step_losses[-10:])), 4) if step_losses else None,
                torch_threads=torch.get_num_threads(),
                openblas_threads=os.environ.get("OPENBLAS_NUM_THREADS"),
                blas=torch.__config__.show().split("BLAS_INFO=")[-1].split(",")[0] if "BLAS_INFO" in torch.__config__.show() else "?",
                seed=args.seed,
                iters=args.iters,
                ms_per_iter=round(ms, 3),
                tokens_per_s=round(tokens * 1000 / ms),
                train_loss=round(last["train"], 4),
                val_loss=round(last["val"], 4),
                params=params,
                peak_rss_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                wall_s=round(time.time() - start, 1),
            )
        )
    )
    

if __name__ == "__main__":
    main()
