"""Writes the 124M-parameter files of `npm run bench:import` (Debian's python3-torch):

    /usr/bin/python3 scripts/bench/make_import_files.py <dir>

- <dir>/gpt2/model.safetensors + config.json: GPT-2 small (124M) in Hugging Face's layout, random weights
- <dir>/ckpt.pt: nanoGPT's ckpt.pt of the same model (torch.save), with AdamW state after one step
"""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '../../src/main/interop/fixtures'))
from make_fixtures import GPT, write_safetensors  # noqa: E402


def main():
    out = sys.argv[1]
    torch.manual_seed(0)
    args = dict(n_layer=12, n_head=12, n_embd=768, block_size=1024, bias=True, vocab_size=50257, dropout=0.0)
    model = GPT(args)
    conv1d = ['attn.c_attn.weight', 'attn.c_proj.weight', 'mlp.c_fc.weight', 'mlp.c_proj.weight']
    hf = {}
    for k, v in model.state_dict().items():
        if k == 'lm_head.weight':
            continue
        hf[k[len('transformer.'):]] = v.t() if any(k.endswith(w) for w in conv1d) else v
    os.makedirs(os.path.join(out, 'gpt2'), exist_ok=True)
    write_safetensors(os.path.join(out, 'gpt2', 'model.safetensors'), hf)
    with open(os.path.join(out, 'gpt2', 'config.json'), 'w') as f:
        json.dump({'model_type': 'gpt2', 'n_layer': 12, 'n_head': 12, 'n_embd': 768, 'n_positions': 1024,
                   'vocab_size': 50257}, f)
    del hf
    optimizer = model.configure_optimizers(0.1, 6e-4, (0.9, 0.95))
    for p in model.parameters():
        p.grad = torch.randn_like(p) * 1e-3
    optimizer.step()
    torch.save({'model': model.state_dict(), 'optimizer': optimizer.state_dict(), 'model_args': args,
                'iter_num': 1, 'best_val_loss': 1e9, 'config': {'dataset': 'openwebtext'}},
               os.path.join(out, 'ckpt.pt'))


if __name__ == '__main__':
    main()
