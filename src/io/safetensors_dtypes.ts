// Element codecs for the safetensors dtypes we read and write. Browser-safe (no Node built-ins).
// Floating-point tensors are exposed as Float32Array whatever their stored width; integer and
// boolean tensors keep a typed array of their own width (I64/U64 as BigInt arrays).

export type SafetensorsDtype =
  | 'BOOL' | 'U8' | 'I8' | 'I16' | 'U16' | 'F16' | 'BF16'
  | 'I32' | 'U32' | 'F32' | 'F64' | 'I64' | 'U64';

export const DTYPE_SIZES: Readonly<Record<SafetensorsDtype, number>> = {
  BOOL: 1, U8: 1, I8: 1, I16: 2, U16: 2, F16: 2, BF16: 2, I32: 4, U32: 4, F32: 4, F64: 8, I64: 8, U64: 8,
};

export function isSafetensorsDtype(name: unknown): name is SafetensorsDtype {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(DTYPE_SIZES, name);
}

/** Always backed by a plain ArrayBuffer, so the arrays can go straight to GPUQueue.writeBuffer. */
export type TensorData =
  | Float32Array<ArrayBuffer> | Float64Array<ArrayBuffer> | Uint8Array<ArrayBuffer> | Int8Array<ArrayBuffer>
  | Int16Array<ArrayBuffer> | Uint16Array<ArrayBuffer> | Int32Array<ArrayBuffer> | Uint32Array<ArrayBuffer>
  | BigInt64Array<ArrayBuffer> | BigUint64Array<ArrayBuffer>;

const littleEndianHost = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

// ---- half-precision bit conversions -------------------------------------------------------

const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

export function f16BitsToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 31) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** Rounds to nearest-even. The value is first rounded to f32, as every writer here stores f32. */
export function numberToF16Bits(value: number): number {
  f32Scratch[0] = value;
  const x = u32Scratch[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 | (mant >>> 13) : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    const rem = mant & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    let m = mant >>> shift;
    if (rem > half || (rem === half && (m & 1) === 1)) m++;
    return sign | m; // a carry into bit 10 correctly yields the smallest normal
  }
  let h = sign | (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (h & 1) === 1)) h++; // a carry may round up to Inf
  return h;
}

export function bf16BitsToNumber(b: number): number {
  u32Scratch[0] = (b & 0xffff) << 16;
  return f32Scratch[0]!;
}

export function numberToBf16Bits(value: number): number {
  f32Scratch[0] = value;
  const x = u32Scratch[0]!;
  if (Number.isNaN(value)) return ((x >>> 16) | 0x40) & 0xffff; // keep NaN quiet after truncation
  return ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
}

// ---- decoding -----------------------------------------------------------------------------

/**
 * Typed view over `bytes` when aligned (no copy), else over a copy. Zero-copy views share memory
 * with the file bytes: writing into them changes the file buffer.
 */
function viewAs<T>(bytes: Uint8Array<ArrayBuffer>, elementSize: number, make: (buf: ArrayBuffer, off: number, n: number) => T): T {
  const n = bytes.byteLength / elementSize;
  if (bytes.byteOffset % elementSize === 0) return make(bytes.buffer, bytes.byteOffset, n);
  return make(bytes.slice().buffer, 0, n);
}

export function decodeElements(dtype: SafetensorsDtype, bytes: Uint8Array<ArrayBuffer>): TensorData {
  if (!littleEndianHost) throw new Error('safetensors: big-endian hosts are not supported');
  switch (dtype) {
    case 'F32': return viewAs(bytes, 4, (b, o, n) => new Float32Array(b, o, n));
    case 'F64': return Float32Array.from(viewAs(bytes, 8, (b, o, n) => new Float64Array(b, o, n)));
    case 'F16': return Float32Array.from(viewAs(bytes, 2, (b, o, n) => new Uint16Array(b, o, n)), f16BitsToNumber);
    case 'BF16': return Float32Array.from(viewAs(bytes, 2, (b, o, n) => new Uint16Array(b, o, n)), bf16BitsToNumber);
    case 'I64': return viewAs(bytes, 8, (b, o, n) => new BigInt64Array(b, o, n));
    case 'U64': return viewAs(bytes, 8, (b, o, n) => new BigUint64Array(b, o, n));
    case 'I32': return viewAs(bytes, 4, (b, o, n) => new Int32Array(b, o, n));
    case 'U32': return viewAs(bytes, 4, (b, o, n) => new Uint32Array(b, o, n));
    case 'I16': return viewAs(bytes, 2, (b, o, n) => new Int16Array(b, o, n));
    case 'U16': return viewAs(bytes, 2, (b, o, n) => new Uint16Array(b, o, n));
    case 'I8': return new Int8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    case 'U8': case 'BOOL': return bytes;
  }
}

// ---- encoding -----------------------------------------------------------------------------

export type ElementSource = ArrayLike<number> | ArrayLike<bigint> | ArrayLike<boolean>;

const INT_RANGES: Partial<Record<SafetensorsDtype, [number, number]>> = {
  U8: [0, 0xff], I8: [-0x80, 0x7f], I16: [-0x8000, 0x7fff], U16: [0, 0xffff],
  I32: [-0x80000000, 0x7fffffff], U32: [0, 0xffffffff],
};

function fits64(v: bigint, signed: boolean, what: string, i: number): bigint {
  if ((signed ? BigInt.asIntN(64, v) : BigInt.asUintN(64, v)) !== v) {
    throw new RangeError(`${what}: element ${i} (${v}) does not fit ${signed ? 'I64' : 'U64'}`);
  }
  return v;
}

/** Writes `values` as little-endian `dtype` elements into `out` (sized exactly); throws on bad values. */
export function encodeElements(dtype: SafetensorsDtype, values: ElementSource, out: DataView, what: string): void {
  const n = values.length;
  const size = DTYPE_SIZES[dtype];
  const num = (i: number): number => {
    const v = values[i];
    if (typeof v === 'number') return v;
    if (typeof v === 'bigint') return Number(v);
    if (typeof v === 'boolean') return v ? 1 : 0;
    throw new TypeError(`${what}: element ${i} is not a number`);
  };
  const big = (i: number): bigint => {
    const v = values[i];
    if (typeof v === 'bigint') return v;
    const x = num(i);
    if (!Number.isSafeInteger(x)) throw new RangeError(`${what}: element ${i} (${x}) is not a safe integer`);
    return BigInt(x);
  };
  const range = INT_RANGES[dtype];
  for (let i = 0; i < n; i++) {
    const at = i * size;
    switch (dtype) {
      case 'F32': out.setFloat32(at, num(i), true); break;
      case 'F64': out.setFloat64(at, num(i), true); break;
      case 'F16': out.setUint16(at, numberToF16Bits(num(i)), true); break;
      case 'BF16': out.setUint16(at, numberToBf16Bits(num(i)), true); break;
      case 'I64': out.setBigInt64(at, fits64(big(i), true, what, i), true); break;
      case 'U64': out.setBigUint64(at, fits64(big(i), false, what, i), true); break;
      case 'BOOL': out.setUint8(at, num(i) ? 1 : 0); break;
      default: {
        const x = num(i);
        if (!Number.isInteger(x) || x < range![0] || x > range![1]) {
          throw new RangeError(`${what}: element ${i} (${x}) does not fit ${dtype}`);
        }
        if (size === 1) out.setUint8(at, x & 0xff);
        else if (size === 2) out.setUint16(at, x & 0xffff, true);
        else out.setUint32(at, x >>> 0, true);
      }
    }
  }
}
