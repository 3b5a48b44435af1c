"""PyTorch CPU peer for bench/bottleneck.bench.ts: one ResNeSt-50 layer1 split-attention
bottleneck (256 -> 64 -> 2x64 grouped 3x3 -> 256, identity shortcut, training-mode batch norm),
forward + backward w.r.t. the input and every parameter, with 2 threads (the benchmark
machine's cores). The block is the reference definition in scripts/fixtures/resnest_ref.py,
whose state_dict keys are the library's.

    /usr/bin/python3 bench/peers/torch_block.py '{"n": 8, "inplanes": 256, "planes": 64, "h": 28, "repeats": 5}'

prints {"torch": "<version>", "threads": 2, "fwd": ms, "train": ms, "train_median": ms}: the best
(and median) of `repeats` runs after 2 warm-ups, NCHW float32. With "check": {"file": F,
"tensors": [[name, shape], ...], "samples": {"y": [i, ...], "dx": [...], "<param>.grad": [...]}}
the parameters, "x" and "dy" are first read from F (little-endian float32, in that order) and the
sampled values of y, dx and the named gradients are returned under "check".
"""
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'scripts', 'fixtures'))
from resnest_ref import Bottleneck  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from timing import best_ms  # noqa: E402


def make_block(spec):
    return Bottleneck(spec['inplanes'], spec['planes'], 1, None, radix=2, cardinality=1, bottleneck_width=64,
                      avd=True, avd_first=False, is_first=False).train()


def check(block, spec, chk):
    raw = np.fromfile(chk['file'], dtype='<f4')
    tensors, at = {}, 0
    for name, shape in chk['tensors']:
        n = int(np.prod(shape))
        tensors[name] = torch.from_numpy(raw[at:at + n].copy()).reshape(shape)
        at += n
    params = dict(block.named_parameters())
    with torch.no_grad():
        for name, t in tensors.items():
            if name in params:
                params[name].copy_(t)
    x = tensors['x'].clone().requires_grad_()
    y = block(x)
    y.backward(tensors['dy'])
    values = {'y': y.detach(), 'dx': x.grad}
    for name, p in params.items():
        values[name + '.grad'] = p.grad
    return {k: values[k].reshape(-1)[idx].tolist() for k, idx in chk['samples'].items()}


def main():
    spec = json.loads(sys.argv[1])
    torch.set_num_threads(spec.get('threads', 2))
    torch.manual_seed(0)
    block = make_block(spec)
    out = {'torch': torch.__version__, 'threads': torch.get_num_threads()}
    if 'check' in spec:
        out['check'] = check(block, spec, spec['check'])
    x = torch.randn(spec['n'], spec['inplanes'], spec['h'], spec['h'])
    dy = torch.randn(spec['n'], spec['planes'] * 4, spec['h'], spec['h'])
    repeats = spec.get('repeats', 5)
    with torch.no_grad():
        out['fwd'], _ = best_ms(lambda: block(x), repeats)
    xg = x.clone().requires_grad_()

    def train():
        block(xg).backward(dy)
        xg.grad = None
        for p in block.parameters():
            p.grad = None

    out['train'], out['train_median'] = best_ms(train, repeats)
    print(json.dumps(out))


if __name__ == '__main__':
    main()
