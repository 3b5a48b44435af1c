// A restricted Python unpickler (protocols 0-5, the subset torch.save writes). Browser-safe.
//
// Nothing in the stream is ever executed: a GLOBAL / STACK_GLOBAL is looked up in the caller's
// allowlist and refused otherwise, REDUCE calls only allowlisted TypeScript functions, and every
// opcode that could build an arbitrary object (INST, OBJ, NEWOBJ, EXT*, buffers) is refused by
// name. Values: None -> null, bool, int -> number (bigint beyond 2^53), float -> number,
// str -> string, bytes -> Uint8Array, tuple and list -> array, dict -> Map.

export class PickleError extends Error {
  constructor(readonly source: string, readonly position: number, detail: string) {
    super(`pickle: ${source}: byte ${position}: ${detail}`);
    this.name = 'PickleError';
  }
}

/** An allowlisted callable: REDUCE calls it with the argument tuple. */
export interface PickleCallable { call(args: unknown[]): unknown }

export interface UnpickleOptions {
  /** Names the stream in errors, e.g. "model.pth: archive/data.pkl". */
  source: string;
  /** "module.name" -> what the global stands for; any other global is refused. */
  globals: ReadonlyMap<string, unknown>;
  /** Resolves BINPERSID / PERSID ids (torch: storages); absent = persistent ids refused. */
  persistentLoad?: (id: unknown) => unknown;
}

export interface Unpickled { value: unknown; end: number }

const MARK = Symbol('mark');
const OPCODE_NAMES: Record<number, string> = {
  0x63: 'GLOBAL', 0x69: 'INST', 0x6f: 'OBJ', 0x81: 'NEWOBJ', 0x92: 'NEWOBJ_EX', 0x82: 'EXT1', 0x83: 'EXT2',
  0x84: 'EXT4', 0x96: 'BYTEARRAY8', 0x97: 'NEXT_BUFFER', 0x98: 'READONLY_BUFFER', 0x8f: 'EMPTY_SET',
  0x90: 'ADDITEMS', 0x91: 'FROZENSET', 0x53: 'STRING', 0x56: 'UNICODE',
};

/** Parses one pickle starting at `start`; `end` is the offset just past its STOP. */
export function unpickle(bytes: Uint8Array, opts: UnpickleOptions, start = 0): Unpickled {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const stack: unknown[] = [];
  const marks: number[] = [];
  const memo = new Map<number, unknown>();
  let pos = start;
  let opAt = start;
  const fail = (detail: string): never => { throw new PickleError(opts.source, opAt, detail); };

  const need = (n: number): number => {
    if (n < 0 || pos + n > bytes.byteLength) fail(`needs ${n} more bytes but the stream ends at byte ${bytes.byteLength} (truncated?)`);
    const at = pos;
    pos += n;
    return at;
  };
  const u8 = () => bytes[need(1)]!;
  const u16 = () => view.getUint16(need(2), true);
  const u32 = () => view.getUint32(need(4), true);
  const u64 = () => {
    const v = view.getBigUint64(need(8), true);
    if (v > BigInt(bytes.byteLength)) fail(`declared length ${v} exceeds the stream (${bytes.byteLength} bytes)`);
    return Number(v);
  };
  const line = (): string => {
    const nl = bytes.indexOf(0x0a, pos);
    if (nl < 0) fail('text argument has no terminating newline (truncated?)');
    const text = new TextDecoder('latin1').decode(bytes.subarray(pos, nl));
    pos = nl + 1;
    return text;
  };
  const utf8 = (n: number): string => {
    const at = need(n);
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(at, at + n));
    } catch {
      return fail('string is not valid UTF-8');
    }
  };
  const pop = (): unknown => {
    if (stack.length === 0 || (marks.length > 0 && stack.length === marks[marks.length - 1])) fail('pops from an empty stack');
    return stack.pop();
  };
  const top = (): unknown => {
    if (stack.length === 0 || (marks.length > 0 && stack.length === marks[marks.length - 1])) fail('reads the top of an empty stack');
    return stack[stack.length - 1];
  };
  const popMark = (): unknown[] => {
    const m = marks.pop();
    if (m === undefined) fail('needs a MARK but none is open');
    return stack.splice(m!);
  };
  const put = (index: number) => { memo.set(index, top()); };
  const get = (index: number) => {
    if (!memo.has(index)) fail(`memo entry ${index} is read before it is written`);
    stack.push(memo.get(index));
  };
  const asInt = (v: bigint): number | bigint => (v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v);
  const long = (n: number): number | bigint => {
    if (n === 0) return 0;
    const at = need(n);
    let v = 0n;
    for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[at + i]!);
    if (bytes[at + n - 1]! & 0x80) v -= 1n << BigInt(8 * n);
    return asInt(v);
  };
  const resolveGlobal = (module: string, name: string): unknown => {
    const key = `${module}.${name}`;
    if (!opts.globals.has(key)) fail(`refuses the global ${key}: only tensors, storages and plain containers may be loaded, nothing is executed`);
    return opts.globals.get(key);
  };
  const setItems = (target: unknown, items: unknown[]) => {
    if (!(target instanceof Map)) fail(`SETITEM(S) on a ${describe(target)}, not a dict`);
    if (items.length % 2 !== 0) fail('SETITEMS with an odd number of items');
    for (let i = 0; i < items.length; i += 2) (target as Map<unknown, unknown>).set(items[i], items[i + 1]);
  };
  const appendItems = (target: unknown, items: unknown[]) => {
    if (!Array.isArray(target)) fail(`APPEND(S) on a ${describe(target)}, not a list`);
    (target as unknown[]).push(...items);
  };

  for (;;) {
    opAt = pos;
    const op = u8();
    switch (op) {
      case 0x80: { const proto = u8(); if (proto > 5) fail(`pickle protocol ${proto} is newer than 5`); break; } // PROTO
      case 0x95: need(8); break; // FRAME: a length hint only
      case 0x2e: { // STOP
        if (marks.length > 0) fail('STOP with a MARK still open');
        return { value: pop(), end: pos };
      }
      case 0x28: marks.push(stack.length); break; // MARK
      case 0x30: pop(); break; // POP
      case 0x31: popMark(); break; // POP_MARK
      case 0x32: stack.push(top()); break; // DUP
      case 0x4e: stack.push(null); break; // NONE
      case 0x88: stack.push(true); break; // NEWTRUE
      case 0x89: stack.push(false); break; // NEWFALSE
      case 0x4a: stack.push(view.getInt32(need(4), true)); break; // BININT
      case 0x4b: stack.push(u8()); break; // BININT1
      case 0x4d: stack.push(u16()); break; // BININT2
      case 0x8a: stack.push(long(u8())); break; // LONG1
      case 0x8b: { const n = view.getInt32(need(4), true); stack.push(long(n)); break; } // LONG4
      case 0x49: { // INT (text)
        const text = line();
        if (text === '00' || text === '01') stack.push(text === '01');
        else if (/^[-+]?\d+$/.test(text)) stack.push(asInt(BigInt(text)));
        else fail(`INT argument ${JSON.stringify(text)} is not an integer`);
        break;
      }
      case 0x4c: { // LONG (text)
        const text = line().replace(/L$/, '');
        if (!/^[-+]?\d+$/.test(text)) fail(`LONG argument ${JSON.stringify(text)} is not an integer`);
        stack.push(asInt(BigInt(text)));
        break;
      }
      case 0x46: { // FLOAT (text)
        const x = Number(line());
        if (Number.isNaN(x)) fail('FLOAT argument is not a number');
        stack.push(x);
        break;
      }
      case 0x47: stack.push(view.getFloat64(need(8), false)); break; // BINFLOAT, big-endian
      case 0x58: stack.push(utf8(u32())); break; // BINUNICODE
      case 0x8c: stack.push(utf8(u8())); break; // SHORT_BINUNICODE
      case 0x8d: stack.push(utf8(u64())); break; // BINUNICODE8
      case 0x54: { const n = view.getInt32(need(4), true); stack.push(new TextDecoder('latin1').decode(bytes.subarray(need(n), pos))); break; } // BINSTRING
      case 0x55: { const n = u8(); stack.push(new TextDecoder('latin1').decode(bytes.subarray(need(n), pos))); break; } // SHORT_BINSTRING
      case 0x42: { const n = u32(); stack.push(bytes.slice(need(n), pos)); break; } // BINBYTES
      case 0x43: { const n = u8(); stack.push(bytes.slice(need(n), pos)); break; } // SHORT_BINBYTES
      case 0x8e: { const n = u64(); stack.push(bytes.slice(need(n), pos)); break; } // BINBYTES8
      case 0x29: stack.push([]); break; // EMPTY_TUPLE
      case 0x74: stack.push(popMark()); break; // TUPLE
      case 0x85: stack.push([pop()]); break; // TUPLE1
      case 0x86: { const b = pop(); const a = pop(); stack.push([a, b]); break; } // TUPLE2
      case 0x87: { const c = pop(); const b = pop(); const a = pop(); stack.push([a, b, c]); break; } // TUPLE3
      case 0x5d: stack.push([]); break; // EMPTY_LIST
      case 0x6c: stack.push(popMark()); break; // LIST
      case 0x61: { const item = pop(); appendItems(top(), [item]); break; } // APPEND
      case 0x65: { const items = popMark(); appendItems(top(), items); break; } // APPENDS
      case 0x7d: stack.push(new Map()); break; // EMPTY_DICT
      case 0x64: { const items = popMark(); const d = new Map(); setItems(d, items); stack.push(d); break; } // DICT
      case 0x73: { const v = pop(); const k = pop(); setItems(top(), [k, v]); break; } // SETITEM
      case 0x75: { const items = popMark(); setItems(top(), items); break; } // SETITEMS
      case 0x63: { const module = line(); stack.push(resolveGlobal(module, line())); break; } // GLOBAL
      case 0x93: { // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') fail('STACK_GLOBAL needs two strings');
        stack.push(resolveGlobal(module as string, name as string));
        break;
      }
      case 0x52: { // REDUCE
        const args = pop();
        const fn = pop();
        if (!Array.isArray(args)) fail(`REDUCE arguments are a ${describe(args)}, not a tuple`);
        if (!isCallable(fn)) fail(`REDUCE calls a ${describe(fn)}, which is not an allowlisted function`);
        try {
          stack.push((fn as PickleCallable).call(args as unknown[]));
        } catch (e) {
          if (e instanceof PickleError) throw e;
          fail((e as Error).message);
        }
        break;
      }
      case 0x62: { // BUILD
        const state = pop();
        const target = top();
        // OrderedDict state_dicts carry a `_metadata` attribute (module versions): not needed here.
        if (target instanceof Map && (state instanceof Map || state === null)) break;
        fail(`BUILD sets state on a ${describe(target)}, which takes none`);
        break;
      }
      case 0x71: put(u8()); break; // BINPUT
      case 0x72: put(u32()); break; // LONG_BINPUT
      case 0x70: { const text = line(); if (!/^\d+$/.test(text)) fail('PUT index is not a number'); put(Number(text)); break; } // PUT
      case 0x94: put(memo.size); break; // MEMOIZE
      case 0x68: get(u8()); break; // BINGET
      case 0x6a: get(u32()); break; // LONG_BINGET
      case 0x67: { const text = line(); if (!/^\d+$/.test(text)) fail('GET index is not a number'); get(Number(text)); break; } // GET
      case 0x51: stack.push(persistent(pop())); break; // BINPERSID
      case 0x50: stack.push(persistent(line())); break; // PERSID
      default: {
        const name = OPCODE_NAMES[op];
        fail(name ? `refuses opcode ${name} (0x${op.toString(16)}): not used by torch.save and able to build arbitrary objects`
          : `unknown opcode 0x${op.toString(16).padStart(2, '0')}`);
      }
    }
  }

  function persistent(id: unknown): unknown {
    if (!opts.persistentLoad) return fail('persistent id in a stream that allows none');
    try {
      return opts.persistentLoad(id);
    } catch (e) {
      if (e instanceof PickleError) throw e;
      return fail((e as Error).message);
    }
  }
}

function isCallable(v: unknown): v is PickleCallable {
  return typeof v === 'object' && v !== null && typeof (v as PickleCallable).call === 'function' && !(v instanceof Map) && !Array.isArray(v);
}

/** Short type name of an unpickled value, for error messages. */
export function describe(v: unknown): string {
  if (v === null) return 'None';
  if (Array.isArray(v)) return 'tuple/list';
  if (v instanceof Map) return 'dict';
  if (v instanceof Uint8Array) return 'bytes';
  if (typeof v === 'object') return (v as { kind?: string }).kind ?? 'object';
  return typeof v === 'bigint' ? 'int' : typeof v === 'number' ? 'number' : typeof v === 'string' ? 'str' : typeof v;
}
