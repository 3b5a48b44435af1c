"""PyTorch CPU peer for bench/conv2d.bench.ts: times conv2d forward, dX, dW and
forward+backward on the shapes given as JSON, with 2 threads (the benchmark machine's cores).

    /usr/bin/python3 bench/peers/torch_conv.py '{"repeats": 5, "shapes": [{"n": 8, "c": 64, "h": 56, "w": 56,
        "co": 128, "kh": 3, "kw": 3, "stride": 1, "padding": 1, "dilation": 1, "groups": 2, "bias": false}]}'

prints {"torch": "<version>", "threads": 2, "results": [{"fwd": ms, "dx": ms, "dw": ms, "train": ms}, ...]}:
the best of `repeats` runs after 2 warm-ups, NCHW float32, oneDNN where PyTorch uses it.
"""
import json
import os
import sys

import torch
import torch.nn.functional as F
from torch.nn.grad import conv2d_input, conv2d_weight

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from timing import best_ms  # noqa: E402


def time_shape(s, repeats):
    torch.manual_seed(0)
    x = torch.randn(s['n'], s['c'], s['h'], s['w'])
    w = torch.randn(s['co'], s['c'] // s['groups'], s['kh'], s['kw'])
    b = torch.randn(s['co']) if s.get('bias') else None
    args = dict(stride=s['stride'], padding=s['padding'], dilation=s['dilation'], groups=s['groups'])
    with torch.no_grad():
        y = F.conv2d(x, w, b, **args)
    dy = torch.randn(y.shape)
    out = {}
    with torch.no_grad():
        out['fwd'] = best_ms(lambda: F.conv2d(x, w, b, **args), repeats)[0]
        out['dx'] = best_ms(lambda: conv2d_input(x.shape, w, dy, **args), repeats)[0]
        out['dw'] = best_ms(lambda: conv2d_weight(x, w.shape, dy, **args), repeats)[0]
    xg = x.clone().requires_grad_()
    wg = w.clone().requires_grad_()
    bg = b.clone().requires_grad_() if b is not None else None

    def train():
        F.conv2d(xg, wg, bg, **args).backward(dy)
        xg.grad = wg.grad = None
        if bg is not None:
            bg.grad = None

    out['train'] = best_ms(train, repeats)[0]
    return out


def main():
    spec = json.loads(sys.argv[1])
    torch.set_num_threads(spec.get('threads', 2))
    results = [time_shape(s, spec.get('repeats', 5)) for s in spec['shapes']]
    print(json.dumps({'torch': torch.__version__, 'threads': torch.get_num_threads(), 'results': results}))


if __name__ == '__main__':
    main()
