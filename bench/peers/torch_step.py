"""PyTorch CPU peer for the end-to-end benchmark (bench/train_step.ts): one ResNeSt-50 training
step (forward, sigmoid focal loss with alpha 0.25 and gamma 2 over 40 attributes, backward, SGD
with momentum 0.9 and weight decay 1e-4 on weights but not on biases and norms) on random
images, with 2 threads. The model is scripts/fixtures/resnest_ref.py's resnest50 (the
official layout; the library's parity tests compare against it). Host memory per size as the
library's side measures its own (bench/host_memory.ts): the process's peak resident set size
while building the model and running the steps (VmHWM, reset through /proc/self/clear_refs;
off Linux getrusage's maximum over the whole process) and its RSS before.

    /usr/bin/python3 bench/peers/torch_step.py '{"batch": 8, "sizes": [64, 224], "steps": [3, 2], "warmup": 1}'

prints {"torch": "<version>", "threads": 2, "results": [{"size": 64, "ms": best, "median": ms,
"peak_rss_mb": MB, "start_rss_mb": MB}, ...]}.
"""
import json
import os
import re
import resource
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'scripts', 'fixtures'))
from resnest_ref import focal_loss, resnest50  # noqa: E402


def status_mb(field):
    """A field of /proc/self/status in MB, or None off Linux."""
    try:
        with open('/proc/self/status') as f:
            m = re.search(r'^%s:\s+(\d+) kB' % field, f.read(), re.M)
        return int(m.group(1)) / 1024 if m else None
    except OSError:
        return None


def reset_peak_rss():
    """Resets VmHWM to the current RSS; False where that cannot be done."""
    try:
        with open('/proc/self/clear_refs', 'w') as f:
            f.write('5')
        return status_mb('VmHWM') is not None
    except OSError:
        return False


def time_size(size, batch, steps, warmup):
    start_rss = status_mb('VmRSS')
    reset = reset_peak_rss()
    torch.manual_seed(0)
    model = resnest50(num_classes=40).train()
    params = list(model.parameters())
    opt = torch.optim.SGD([{'params': [p for p in params if p.dim() > 1], 'weight_decay': 1e-4},
                           {'params': [p for p in params if p.dim() <= 1], 'weight_decay': 0.0}],
                          lr=0.01, momentum=0.9)
    x = torch.randn(batch, 3, size, size)
    y = (torch.rand(batch, 40) < 0.3).float()

    def step():
        opt.zero_grad(set_to_none=True)
        loss = focal_loss(model(x), y, 0.25, 2.0)
        loss.backward()
        opt.step()
        return loss.item()

    for _ in range(warmup):
        step()
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        step()
        times.append((time.perf_counter() - t0) * 1000)
    peak = status_mb('VmHWM') if reset else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {'size': size, 'ms': min(times), 'median': float(np.median(times)), 'peak_rss_mb': peak, 'start_rss_mb': start_rss}


def main():
    spec = json.loads(sys.argv[1])
    torch.set_num_threads(spec.get('threads', 2))
    batch, sizes = spec.get('batch', 8), spec.get('sizes', [64])
    steps = spec.get('steps', [3] * len(sizes))
    results = [time_size(s, batch, n, spec.get('warmup', 1)) for s, n in zip(sizes, steps)]
    print(json.dumps({'torch': torch.__version__, 'threads': torch.get_num_threads(), 'results': results}))


if __name__ == '__main__':
    main()
