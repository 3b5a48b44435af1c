"""PyTorch CUDA peer of the device kit (bench/device/run.sh): the ResNeSt-50 training step of
bench/train_step.ts (timm's resnest50d with 40 outputs, sigmoid focal loss with alpha 0.25 and
gamma 2, backward, SGD with momentum 0.9 and weight decay 1e-4 on weights only) on random
images, in four modes:
  f32            strict float32: TF32 off for cuDNN and matmul (the like-for-like peer)
  tf32           PyTorch's defaults on NVIDIA for convolutions (TF32 tensor cores)
  channels_last  tf32 with model and input in channels-last memory format
  amp            bf16 autocast over forward and loss, TF32 elsewhere
Each step is timed from its start to the loss's readback (`.item()`), as ours is, after warm-up;
cudnn.benchmark is on. Prints one JSON object; {"skipped": reason} without CUDA, timm or torch.

    python3 bench/device/torch_peer.py '{"sizes": [224, 320], "batch": 32, "steps": 10, "warmup": 3}'
"""
import json
import sys
import time

MODES = ['f32', 'tf32', 'channels_last', 'amp']


def skipped(reason):
    print(json.dumps({'skipped': reason}))
    sys.exit(0)


try:
    import torch
except ImportError:
    skipped('python3 has no torch')
if not torch.cuda.is_available():
    skipped(f'torch {torch.__version__} sees no CUDA device')
try:
    import timm
except ImportError:
    skipped('python3 has no timm')


def focal_loss(logits, targets, alpha=0.25, gamma=2.0):
    p = torch.sigmoid(logits)
    ce = torch.nn.functional.binary_cross_entropy_with_logits(logits, targets, reduction='none')
    p_t = p * targets + (1 - p) * (1 - targets)
    alpha_t = alpha * targets + (1 - alpha) * (1 - targets)
    return (alpha_t * ce * (1 - p_t) ** gamma).mean()


def time_mode(mode, size, batch, steps, warmup):
    tf32 = mode != 'f32'
    torch.backends.cuda.matmul.allow_tf32 = tf32
    torch.backends.cudnn.allow_tf32 = tf32
    torch.backends.cudnn.benchmark = True
    torch.manual_seed(0)
    fmt = torch.channels_last if mode == 'channels_last' else torch.contiguous_format
    model = timm.create_model('resnest50d', num_classes=40).cuda().to(memory_format=fmt).train()
    params = list(model.parameters())
    opt = torch.optim.SGD([{'params': [p for p in params if p.dim() > 1], 'weight_decay': 1e-4},
                           {'params': [p for p in params if p.dim() <= 1], 'weight_decay': 0.0}], lr=0.01, momentum=0.9)
    x = torch.randn(batch, 3, size, size, device='cuda').to(memory_format=fmt)
    y = (torch.rand(batch, 40, device='cuda') < 0.3).float()

    def step():
        opt.zero_grad(set_to_none=True)
        with torch.autocast('cuda', dtype=torch.bfloat16, enabled=mode == 'amp'):
            loss = focal_loss(model(x).float(), y)
        loss.backward()
        opt.step()
        return loss.item()

    for _ in range(warmup):
        step()
    times, events = [], []
    for _ in range(steps):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        t0 = time.perf_counter()
        start.record()
        loss = step()
        end.record()
        torch.cuda.synchronize()
        times.append((time.perf_counter() - t0) * 1000)
        events.append(start.elapsed_time(end))
    if loss != loss:
        raise RuntimeError(f'{mode} {size}: loss is NaN')
    del model, opt, x, y
    torch.cuda.empty_cache()
    times.sort()
    return {'size': size, 'batch': batch, 'mode': mode, 'ms': times[0], 'median': times[len(times) // 2],
            'event_ms': min(events), 'loss': loss}


def main():
    spec = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
    sizes, batch = spec.get('sizes', [224, 320]), spec.get('batch', 32)
    results = []
    for size in sizes:
        for mode in spec.get('modes', MODES):
            results.append(time_mode(mode, size, batch, spec.get('steps', 10), spec.get('warmup', 3)))
            print(f"torch-cuda {mode} {size}x{size} batch {batch}: {results[-1]['ms']:.2f} ms", file=sys.stderr)
    print(json.dumps({'torch': torch.__version__, 'timm': timm.__version__, 'device': torch.cuda.get_device_name(0),
                      'results': results}))


if __name__ == '__main__':
    main()
