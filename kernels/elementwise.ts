// Host half of shaders/elementwise.wgsl: out = f(a[, b]) over n f32 values.
// Buffers hold n floats padded to a multiple of 4 (the pool guarantees it).
// CPU references in f64 define correctness. Test: npm test -- elementwise. Bench: npm run bench -- --filter elementwise
import { packParams, type Binding } from '../src/gpu/index.ts';
import { grid1d, launch } from './launch.ts';
import { batchChunks } from './chunking.ts';

export const ELEMENTWISE_WG = 256;
export const ELEMENTWISE_PER_THREAD = 4;

export type BinaryOp = 'add' | 'sub' | 'mul' | 'lincomb';
export type UnaryOp = 'relu' | 'affine' | 'square' | 'broadcast';
const binaryCode: Record<BinaryOp, number> = { add: 0, sub: 1, mul: 2, lincomb: 3 };
const unaryCode: Record<UnaryOp, number> = { relu: 0, affine: 1, square: 3, broadcast: 4 };

function geometry(n: number, alpha: number, beta: number) {
  const n4 = Math.ceil(n / 4);
  const threads = Math.max(1, Math.ceil(n4 / ELEMENTWISE_PER_THREAD));
  return {
    params: packParams([['u32', n4], ['u32', threads], ['f32', alpha], ['f32', beta]]),
    grid: grid1d(threads, ELEMENTWISE_WG),
  };
}

const constants = (op: number) => ({ WG: ELEMENTWISE_WG, PER_THREAD: ELEMENTWISE_PER_THREAD, OP: op });

/**
 * Runs fn per range of elements (kernels/chunking.ts, one float per "sample": ranges of
 * multiples of 64 floats when a tensor is over one binding); `sliced` marks the bindings to
 * narrow (a broadcast scalar is not).
 */
function overChunks(n: number, bindings: Binding[], sliced: boolean[], label: string, fn: (b: Binding[], count: number) => void): void {
  const chunks = batchChunks(label, n, bindings.filter((_, i) => sliced[i]).map((b) => [b, 1] as const));
  for (const ch of chunks) fn(bindings.map((b, i) => (sliced[i] ? ch.of(b, 1) : b)), ch.count);
}

export function elementwiseBinary(op: BinaryOp, a: Binding, b: Binding, out: Binding, n: number, label: string, alpha = 1, beta = 1): void {
  overChunks(n, [a, b, out], [true, true, true], label, ([ca, cb, co], count) => {
    const { params, grid } = geometry(count, alpha, beta);
    launch({ shader: 'elementwise', entry: 'elementwise_binary', bindings: ['read', 'read', 'write', 'uniform'], constants: constants(binaryCode[op]) },
      [ca, cb, co], params, grid, label);
  });
}

export function elementwiseUnary(op: UnaryOp, a: Binding, out: Binding, n: number, label: string, alpha = 1, beta = 0): void {
  overChunks(n, [a, out], [op !== 'broadcast', true], label, ([ca, co], count) => {
    const { params, grid } = geometry(count, alpha, beta);
    launch({ shader: 'elementwise', entry: 'elementwise_unary', bindings: ['read', 'write', 'uniform'], constants: constants(unaryCode[op]) },
      [ca, co], params, grid, label);
  });
}

export function elementwiseReluBackward(x: Binding, dy: Binding, dx: Binding, n: number, label: string): void {
  overChunks(n, [x, dy, dx], [true, true, true], label, ([cx, cdy, cdx], count) => {
    const { params, grid } = geometry(count, 1, 0);
    launch({ shader: 'elementwise', entry: 'elementwise_relu_bwd', bindings: ['read', 'read', 'write', 'uniform'], constants: constants(0) },
      [cx, cdy, cdx], params, grid, label);
  });
}

export function elementwiseFill(out: Binding, n: number, value: number, label: string): void {
  overChunks(n, [out], [true], label, ([co], count) => {
    const { params, grid } = geometry(count, value, 0);
    launch({ shader: 'elementwise', entry: 'elementwise_fill', bindings: ['write', 'uniform'], constants: constants(0) }, [co], params, grid, label);
  });
}

/** y += alpha * x */
export function elementwiseAxpy(x: Binding, y: Binding, n: number, alpha: number, label: string): void {
  overChunks(n, [x, y], [true, true], label, ([cx, cy], count) => {
    const { params, grid } = geometry(count, alpha, 0);
    launch({ shader: 'elementwise', entry: 'elementwise_axpy', bindings: ['read', 'write', 'uniform'], constants: constants(0) },
      [cx, cy], params, grid, label);
  });
}

// ---- f64 CPU references ----
type Arr = ArrayLike<number>;

export function binaryCpu(op: BinaryOp, a: Arr, b: Arr, alpha = 1, beta = 1): Float64Array {
  const f = { add: (x: number, y: number) => x + y, sub: (x: number, y: number) => x - y,
    mul: (x: number, y: number) => x * y, lincomb: (x: number, y: number) => alpha * x + beta * y }[op];
  return Float64Array.from({ length: a.length }, (_, i) => f(a[i], b[i]));
}

export function unaryCpu(op: UnaryOp, a: Arr, alpha = 1, beta = 0): Float64Array {
  const f = { relu: (x: number) => Math.max(x, 0), affine: (x: number) => alpha * x + beta,
    square: (x: number) => x * x, broadcast: () => alpha * a[0] }[op];
  return Float64Array.from({ length: a.length }, (_, i) => f(a[i]));
}

export function reluBwdCpu(x: Arr, dy: Arr): Float64Array {
  return Float64Array.from({ length: x.length }, (_, i) => (x[i] > 0 ? dy[i] : 0));
}
