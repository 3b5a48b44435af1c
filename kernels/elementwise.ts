// Host half of shaders/elementwise.wgsl: out = f(a[, b]) over n f32 values.
// Buffers hold n floats padded to a multiple of 4 (the pool guarantees it).
// CPU references in f64 define correctness. Test: npm test -- elementwise. Bench: npm run bench -- --filter elementwise
import { gpu, packParams, type Binding } from '../src/gpu/index.ts';
import { bufferRegion, grid1d, launch } from './launch.ts';

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

// Tensors over one storage binding are processed in element ranges, each bound at a
// 256-byte-aligned offset (64 floats), so no tensor is refused for its size.
let chunkFloatsForTests: number | null = null;
/** Forces element ranges of this many floats (a multiple of 64) in tests; null restores the device limit. */
export function setElementChunkForTests(floats: number | null): void {
  chunkFloatsForTests = floats;
}

/** Runs fn over [e0, e0 + count) ranges; `sliced` marks the bindings to narrow (a broadcast scalar is not). */
function overChunks(n: number, bindings: Binding[], sliced: boolean[], fn: (b: Binding[], count: number, e0: number) => void): void {
  const limit = chunkFloatsForTests ?? Math.floor(gpu().limits.maxStorageBufferBindingSize / 256) * 64;
  if (n <= limit) { fn(bindings, n, 0); return; }
  for (let e0 = 0; e0 < n; e0 += limit) {
    const count = Math.min(limit, n - e0);
    fn(bindings.map((b, i) => {
      if (!sliced[i]) return b;
      const r = bufferRegion(b);
      return { buffer: r.buffer, offset: r.offset + e0 * 4, size: Math.ceil(count / 4) * 16 };
    }), count, e0);
  }
}

export function binaryKernel(op: BinaryOp, a: Binding, b: Binding, out: Binding, n: number, label: string, alpha = 1, beta = 1): void {
  overChunks(n, [a, b, out], [true, true, true], ([ca, cb, co], count) => {
    const { params, grid } = geometry(count, alpha, beta);
    launch({ shader: 'elementwise', entry: 'elementwise_binary', bindings: ['read', 'read', 'write', 'uniform'], constants: constants(binaryCode[op]) },
      [ca, cb, co], params, grid, label);
  });
}

export function unaryKernel(op: UnaryOp, a: Binding, out: Binding, n: number, label: string, alpha = 1, beta = 0): void {
  overChunks(n, [a, out], [op !== 'broadcast', true], ([ca, co], count) => {
    const { params, grid } = geometry(count, alpha, beta);
    launch({ shader: 'elementwise', entry: 'elementwise_unary', bindings: ['read', 'write', 'uniform'], constants: constants(unaryCode[op]) },
      [ca, co], params, grid, label);
  });
}

export function reluBwdKernel(x: Binding, dy: Binding, dx: Binding, n: number, label: string): void {
  overChunks(n, [x, dy, dx], [true, true, true], ([cx, cdy, cdx], count) => {
    const { params, grid } = geometry(count, 1, 0);
    launch({ shader: 'elementwise', entry: 'relu_bwd', bindings: ['read', 'read', 'write', 'uniform'], constants: constants(0) },
      [cx, cdy, cdx], params, grid, label);
  });
}

export function fillKernel(out: Binding, n: number, value: number, label: string): void {
  overChunks(n, [out], [true], ([co], count) => {
    const { params, grid } = geometry(count, value, 0);
    launch({ shader: 'elementwise', entry: 'fill', bindings: ['write', 'uniform'], constants: constants(0) }, [co], params, grid, label);
  });
}

/** y += alpha * x */
export function axpyKernel(x: Binding, y: Binding, n: number, alpha: number, label: string): void {
  overChunks(n, [x, y], [true, true], ([cx, cy], count) => {
    const { params, grid } = geometry(count, alpha, 0);
    launch({ shader: 'elementwise', entry: 'axpy_inplace', bindings: ['read', 'write', 'uniform'], constants: constants(0) },
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
