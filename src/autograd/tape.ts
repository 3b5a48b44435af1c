// The tape: ops append a record (inputs, output, the tensors their backward needs, and a
// closure dOut -> dInputs). Appending makes the tape topologically ordered, so backward is a
// reverse walk. Fan-out accumulates (+=), leaves accumulate into .grad across calls, and
// each record's saved tensors are freed as soon as its backward has run.
import { Tensor } from '../tensor.ts';
import { axpyKernel, unaryKernel } from '../../kernels/elementwise.ts';

export interface TapeRecord {
  op: string;
  inputs: Tensor[];
  output: Tensor;
  refs: Tensor[];   // inputs, saved tensors and output, each once
  backward: (dOut: Tensor) => (Tensor | null)[];
}

let records: TapeRecord[] = [];
let gradEnabled = true;

export function isGradEnabled(): boolean {
  return gradEnabled;
}

export function noGrad<T>(fn: () => T): T {
  const before = gradEnabled;
  gradEnabled = false;
  try { return fn(); } finally { gradEnabled = before; }
}

/** Records an op when grad mode is on and an input requires grad; marks the output. */
export function record(op: string, inputs: Tensor[], output: Tensor, saved: Tensor[],
  backward: (dOut: Tensor) => (Tensor | null)[]): void {
  if (!gradEnabled || !inputs.some((t) => t.requiresGrad)) return;
  const refs = [...new Set([...inputs, ...saved, output])];
  for (const t of refs) t.tapeRefs++;
  const rec: TapeRecord = { op, inputs, output, refs, backward };
  output.requiresGrad = true;
  output.node = rec;
  records.push(rec);
}

function copyOf(t: Tensor): Tensor {
  const c = Tensor.empty(t.shape, 'grad copy');
  unaryKernel('affine', t.binding, c.binding, t.size, `grad copy [${t.shape}]`, 1, 0);
  return c;
}

function accumulate(into: Tensor, add: Tensor): void {
  axpyKernel(add.binding, into.binding, into.size, 1, `grad accumulate [${into.shape}]`);
  add.dispose();
}

function release(rec: TapeRecord, root: Tensor): void {
  for (const t of rec.refs) {
    if (--t.tapeRefs === 0 && t.tapeOwned && t !== root) t.dispose();
  }
  if (rec.output.node === rec) rec.output.node = null;
}

export function tensorBackward(root: Tensor, grad?: Tensor): void {
  if (!root.requiresGrad) throw new Error(`backward(): ${root.label} tensor of shape [${root.shape}] does not require grad`);
  if (!grad && root.size !== 1) {
    throw new Error(`backward(): grad can be implicitly created only for one-element outputs, got shape [${root.shape}]`);
  }
  if (grad && grad.size !== root.size) throw new Error(`backward(): grad of shape [${grad.shape}] for output of shape [${root.shape}]`);
  const userGrad = grad;
  const grads = new Map<Tensor, Tensor>();
  const rootGrad = grad ?? Tensor.ones(root.shape, { label: 'grad seed' });
  const start = root.node ? records.indexOf(root.node) : -1;
  if (start < 0) { // a leaf: its own gradient is the seed
    addToLeaf(root, rootGrad === userGrad ? copyOf(rootGrad) : rootGrad);
    return;
  }
  grads.set(root, rootGrad);
  const done = new Set<TapeRecord>();
  for (let i = start; i >= 0; i--) {
    const rec = records[i];
    const dOut = grads.get(rec.output);
    if (!dOut) continue;
    grads.delete(rec.output);
    const handedOn = new Set<Tensor>();
    // A closure may hand the same tensor (often dOut itself) to several inputs: each input
    // gets its own tensor, since accumulation happens in place.
    const unused = new Set<Tensor>();
    const dInputs = rec.backward(dOut).map((g, k) => {
      if (!g || !rec.inputs[k].requiresGrad) { if (g) unused.add(g); return null; }
      if (handedOn.has(g) || g === userGrad) g = copyOf(g);
      handedOn.add(g);
      return g;
    });
    rec.inputs.forEach((input, k) => {
      const g = dInputs[k];
      if (!g) return;
      if (!input.node) { addToLeaf(input, g); return; }
      const existing = grads.get(input);
      if (existing) accumulate(existing, g);
      else grads.set(input, g);
    });
    for (const g of unused) if (!handedOn.has(g) && g !== dOut && g !== userGrad) g.dispose();
    if (!handedOn.has(dOut) && dOut !== userGrad) dOut.dispose();
    done.add(rec);
    release(rec, root);
  }
  for (const g of grads.values()) g.dispose();
  records = records.filter((r) => !done.has(r));
}

function addToLeaf(leaf: Tensor, g: Tensor): void {
  if ((!leaf.grad || leaf.grad.disposed) && leaf.gradHome) leaf.grad = leaf.gradHome();
  if (leaf.grad && !leaf.grad.disposed) accumulate(leaf.grad, g);
  else leaf.grad = g;
}

/** Drops every record (e.g. after a forward pass that needs no backward), freeing what the tape owned. */
export function clearTape(): void {
  const all = records;
  records = [];
  for (const rec of all) for (const t of rec.refs) if (--t.tapeRefs === 0 && t.tapeOwned) t.dispose();
  for (const rec of all) if (rec.output.node === rec) rec.output.node = null;
}

export function tapeLength(): number {
  return records.length;
}
