// The tape, micrograd's design at tensor granularity. An op runs its forward kernels, then
// calls record(): when grad mode is on and an input requires grad, the tape appends
// {inputs, output, backward} and takes the tensors the op handed over (saved for backward
// only). Appending keeps the tape topologically ordered, so backward is a reverse walk.
//
// The protocol, all of it:
//   - backward(dOut, needs, sinks) returns one entry per input: a gradient where needs[k], else
//     null. It never writes, disposes, copies or marks anything; it may return dOut itself or a
//     view of it.
//     sinks[k], where given, is the .grad a leaf input accumulates into, or the gradient an
//     intermediate input has gathered so far from its other consumers: an op whose kernels can
//     add into it may do so and return sinks[k] itself, which saves a tensor and an add (conv2d
//     and batch norm for parameters; the attention pool's backward, and conv2d's dX where its
//     kernel can add, for intermediates: a ResNeSt-50 step's gradient adds 295 -> 2 on GPUs,
//     18 on lavapipe, whose conv dX does not add).
//     addsInto(sinks[k]) says whether a gradient written there must be added: not where the sink
//     is an optimizer's freshly zeroed home that nothing has written yet, where the op may store
//     (no read of it, and kernels that sum partial results write their last pass straight in).
//   - The tape owns every gradient tensor: it copies a tensor that reaches two places (gradients
//     accumulate in place), disposes dOut when no input took it, and adds leaf gradients into
//     .grad across calls (PyTorch semantics). The caller's backward(grad) is read through a view,
//     never written: a gradient sharing its storage is copied only where it would be kept (a
//     leaf's .grad, an intermediate's gathered gradient), not where it is only read.
//   - The tape holds each record's inputs, output and handed-over tensors until its backward has
//     run (or clearTape()), then frees those it owns: the handed-over ones, and those tidy()
//     gave it (made in a scope, not returned, still needed here).
import { Tensor, installAutograd, type GradNode } from '../tensor.ts';
import { elementwiseAxpy, elementwiseUnary } from '../../kernels/elementwise.ts';

/** Sinks handed out zeroed (an optimizer's gradient home) and not yet given to any op or add. */
const zeroedSinks = new WeakSet<Tensor>();

/**
 * Whether a gradient written into `sink` must be added to what it holds: false without a sink,
 * and for one that still holds the zeros it was handed out with (storing equals adding there).
 */
export const addsInto = (sink: Tensor | null): boolean => sink !== null && !zeroedSinks.has(sink);

/**
 * d(loss)/d(output) -> d(loss)/d(inputs); needs[k] says whether input k wants one, sinks[k]
 * (null for most inputs) is a leaf's gradient the op may add input k's into and return.
 */
export type BackwardFn = (dOut: Tensor, needs: readonly boolean[], sinks: readonly (Tensor | null)[]) => (Tensor | null)[];

interface TapeRecord extends GradNode {
  inputs: readonly (Tensor | null)[];
  output: Tensor;
  held: Tensor[];   // inputs, output and handed-over tensors, each once
  backward: BackwardFn;
}

let records: TapeRecord[] = [];
let gradEnabled = true;
const holds = new Map<Tensor, number>();   // tensor -> number of live records holding it
const owned = new Set<Tensor>();           // held tensors the tape frees when the last hold goes

export function isGradEnabled(): boolean {
  return gradEnabled;
}

export function noGrad<T>(fn: () => T): T {
  const before = gradEnabled;
  gradEnabled = false;
  try { return fn(); } finally { gradEnabled = before; }
}

/** Whether an op over these inputs is recorded now (grad mode on and an input requires grad). */
export function isRecording(inputs: readonly (Tensor | null)[]): boolean {
  return gradEnabled && inputs.some((t) => t?.requiresGrad);
}

/**
 * Records an op (null inputs are absent optional arguments) and marks its output as requiring
 * grad. `handOver`: tensors the op made for its backward alone; the tape owns them from now on
 * and frees them right away when nothing is recorded.
 */
export function record(op: string, inputs: readonly (Tensor | null)[], output: Tensor, backward: BackwardFn,
  handOver: readonly Tensor[] = []): void {
  if (!isRecording(inputs)) {
    for (const t of handOver) t.dispose();
    return;
  }
  const held = [...new Set([...inputs.filter((t): t is Tensor => t !== null), output, ...handOver])];
  for (const t of held) holds.set(t, (holds.get(t) ?? 0) + 1);
  for (const t of handOver) owned.add(t);
  const rec: TapeRecord = { op, inputs, output, held, backward };
  output.requiresGrad = true;
  output.node = rec;
  records.push(rec);
}

/**
 * tidy() calls this for a tensor made in its scope and not returned: the tape takes it when a
 * record still holds it (true), else the caller frees it (false).
 */
export function adoptIfHeld(t: Tensor): boolean {
  if (!holds.has(t)) return false;
  owned.add(t);
  return true;
}

export function tensorBackward(root: Tensor, grad?: Tensor): void {
  if (!root.requiresGrad) throw new Error(`backward(): ${root.label} tensor of shape [${root.shape}] does not require grad`);
  if (!grad && root.size !== 1) {
    throw new Error(`backward(): grad can be implicitly created only for one-element outputs, got shape [${root.shape}]`);
  }
  if (grad && grad.size !== root.size) throw new Error(`backward(): grad of shape [${grad.shape}] for output of shape [${root.shape}]`);
  // the caller keeps its grad tensor: the walk reads it through a view and copies it only to keep it
  const seed = grad ? grad.view(root.shape, 'grad seed') : Tensor.ones(root.shape, { label: 'grad seed' });
  walk(root, seed, grad ?? null);
}

/** The reverse walk from root; `borrowed`: the caller's gradient of root, read, never written or kept. */
function walk(root: Tensor, seed: Tensor, borrowed: Tensor | null): void {
  const start = root.node ? records.indexOf(root.node as TapeRecord) : -1;
  const grads = new Map<Tensor, Tensor>();
  // the root's gradient is only ever read: nothing on the walk adds into it or keeps it
  if (root.node) grads.set(root, seed);
  else pass(grads, root, seed, borrowed);
  for (let i = start; i >= 0; i--) {
    const rec = records[i];
    let dOut = grads.get(rec.output);
    if (!dOut) continue;   // not on a path from root
    grads.delete(rec.output);
    const needs = rec.inputs.map((t) => t?.requiresGrad ?? false);
    const sinks = rec.inputs.map((t, k) => (needs[k] && rec.inputs.indexOf(t) === k ? (t!.node ? grads.get(t!) ?? null : leafSink(t!)) : null));
    if (sinks.some((sink) => sink?.sharesStorage(dOut!))) dOut = ownCopy(dOut); // the caller's grad is a .grad written here
    const returned = rec.backward(dOut, needs, sinks);
    for (const sink of sinks) if (sink) zeroedSinks.delete(sink); // written (or about to be added into)
    const dInputs = returned.map((g, k) => checked(rec, k, needs[k], g ?? null, sinks[k]));
    // gradients accumulate in place: a tensor handed to two inputs is copied for the second
    const own = dInputs.map((g, k) => (g && dInputs.indexOf(g) < k ? copyOf(g) : g));
    rec.inputs.forEach((input, k) => { if (input && own[k]) pass(grads, input, own[k]!, borrowed); });
    if (!own.includes(dOut)) dOut.dispose();
    release(rec);
    records.splice(i, 1);
  }
  for (const g of grads.values()) g.dispose();
}

/** The .grad a leaf's gradient is added into, made ready (its optimizer's zeroed home); null if it has none yet. */
function leafSink(t: Tensor): Tensor | null {
  if (t.node) return null;
  // a leaf whose optimizer keeps a zeroed home for its gradient accumulates there, in place
  if ((!t.grad || t.grad.disposed) && t.gradHome) {
    t.grad = t.gradHome();
    zeroedSinks.add(t.grad);
  }
  return t.grad && !t.grad.disposed ? t.grad : null;
}

/** The one place gradients move: into a leaf's .grad, or summed into an intermediate's. */
function pass(grads: Map<Tensor, Tensor>, to: Tensor, g: Tensor, borrowed: Tensor | null): void {
  const into = to.node ? grads.get(to) : leafSink(to);
  if (into === g) return; // the op added it into the leaf's .grad itself
  if (into) {
    if (into.sharesStorage(g)) g = ownCopy(g); // the caller's grad is this .grad: read it before the add
    elementwiseAxpy(g.binding, into.binding, into.size, 1, `grad accumulate [${into.shape}]`);
    g.dispose();
    return;
  }
  if (borrowed && g.sharesStorage(borrowed)) g = ownCopy(g); // kept from here on, so the tape's own
  if (to.node) {
    grads.set(to, g);
  } else {
    to.grad = g;
  }
}

function checked(rec: TapeRecord, k: number, needed: boolean, g: Tensor | null, sink: Tensor | null): Tensor | null {
  const input = rec.inputs[k];
  if (g && g.disposed) throw new Error(`${rec.op} backward: input ${k}'s gradient was disposed`);
  if (g && !input?.node && input?.grad === g && g !== sink) throw new Error(`${rec.op} backward: returned input ${k}'s .grad, which it was not given to add into`);
  if (needed && !g) throw new Error(`${rec.op} backward: no gradient for input ${k} [${input!.shape}], which requires grad`);
  if (!needed && g) throw new Error(`${rec.op} backward: a gradient for input ${k}, which needs none`);
  if (g && g.size !== input!.size) {
    throw new Error(`${rec.op} backward: gradient of shape [${g.shape}] for input ${k} of shape [${input!.shape}]`);
  }
  return g;
}

/** A copy of `t` in place of it (disposed). */
function ownCopy(t: Tensor): Tensor {
  const c = copyOf(t);
  t.dispose();
  return c;
}

function copyOf(t: Tensor): Tensor {
  const c = Tensor.empty(t.shape, 'grad copy');
  elementwiseUnary('affine', t.binding, c.binding, t.size, `grad copy [${t.shape}]`, 1, 0);
  return c;
}

function release(rec: TapeRecord): void {
  for (const t of rec.held) {
    const n = holds.get(t)! - 1;
    if (n > 0) { holds.set(t, n); continue; }
    holds.delete(t);
    if (owned.delete(t)) t.dispose();
  }
  if (rec.output.node === rec) rec.output.node = null;
}

/** Drops every record (e.g. after a forward pass that needs no backward), freeing what the tape owned. */
export function clearTape(): void {
  const all = records;
  records = [];
  for (const rec of all) release(rec);
}

export function tapeLength(): number {
  return records.length;
}

installAutograd({ backward: tensorBackward });
