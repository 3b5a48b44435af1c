#!/usr/bin/env python3
"""Convert a PyTorch ResNeSt checkpoint (.pth) to safetensors for the TypeScript loader.

    /usr/bin/python3 scripts/convert-torch-weights.py resnest50-528c19ca.pth resnest50.safetensors
    /usr/bin/python3 scripts/convert-torch-weights.py ckpt.pth out.safetensors --drop-fc

Accepts a plain state_dict (the official release files), or one wrapped as {'state_dict': ...} /
{'model': ...}, with or without the 'module.' prefix that DataParallel adds. Tensors are written
as stored (float32 weights, int64 num_batches_tracked as I64 shape []), contiguous and unshared.
Needs only PyTorch; the writer is scripts/fixtures/st.py.
"""
import argparse
import hashlib
import json
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), 'fixtures'))
import st  # noqa: E402

BUFFER_SUFFIXES = ('.running_mean', '.running_var', '.num_batches_tracked')


def unwrap(obj):
    for key in ('state_dict', 'model'):
        if isinstance(obj, dict) and isinstance(obj.get(key), dict):
            obj = obj[key]
    if not isinstance(obj, dict) or not all(torch.is_tensor(v) for v in obj.values()):
        raise SystemExit('not a state_dict: expected a dict of tensors (optionally under "state_dict")')
    prefix = 'module.'
    if obj and all(k.startswith(prefix) for k in obj):
        obj = {k[len(prefix):]: v for k, v in obj.items()}
    return obj


def sha256_prefix(path):
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            h.update(chunk)
    return h.hexdigest()[:8]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('checkpoint', help='.pth file')
    parser.add_argument('output', help='.safetensors file to write')
    parser.add_argument('--drop-fc', action='store_true', help='omit fc.weight/fc.bias (new head, e.g. 40 classes)')
    args = parser.parse_args()

    state = unwrap(torch.load(args.checkpoint, map_location='cpu'))
    if args.drop_fc:
        state = {k: v for k, v in state.items() if not k.startswith('fc.')}
    # clone(): checkpoints may hold views into shared storage; the file needs each tensor's own bytes.
    tensors = {k: v.detach().contiguous().clone() for k, v in state.items()}
    params = sum(v.numel() for k, v in tensors.items() if not k.endswith(BUFFER_SUFFIXES))
    buffers = sum(v.numel() for k, v in tensors.items() if k.endswith(BUFFER_SUFFIXES))
    dtypes = sorted({str(v.dtype).replace('torch.', '') for v in tensors.values()})
    metadata = {
        'format': 'pt',
        'source': os.path.basename(args.checkpoint),
        'source_sha256_prefix': sha256_prefix(args.checkpoint),
        'param_count': str(params),
        'dropped': json.dumps(['fc.weight', 'fc.bias'] if args.drop_fc else []),
    }
    st.save(args.output, tensors, metadata)
    has_nbt = any(k.endswith('.num_batches_tracked') for k in tensors)
    print(f'{args.output}: {len(tensors)} keys, {params:,} parameters, {buffers:,} buffer elements, '
          f'dtypes {", ".join(dtypes)}, num_batches_tracked {"present" if has_nbt else "absent"}, '
          f'source sha256 {metadata["source_sha256_prefix"]}, {os.path.getsize(args.output):,} bytes')


if __name__ == '__main__':
    main()
