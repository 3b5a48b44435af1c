// Every kernel family with several versions, for the code that treats them alike: the generic
// test of every version against the f64 reference (test/kernels/versions.test.ts), the
// benchmark's --version filter, and docs/ARCHITECTURE.md's list.
import type { KernelFamily } from './versions.ts';
import { conv2dFamily } from './conv2d.ts';
import { matmulFamily } from './matmul.ts';
import { batchNorm2dFamily } from './batchnorm2d.ts';
import { pool2dFamily } from './pool2d.ts';
import { splitAttentionFamily } from './split_attention.ts';

// each family's shape struct differs; the contract's functions are generic over it
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const kernelFamilies: readonly KernelFamily<any>[] = [conv2dFamily, matmulFamily, batchNorm2dFamily, pool2dFamily, splitAttentionFamily];
