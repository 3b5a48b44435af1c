// The dispatches of one ResNeSt training step, recorded by the real code at the real shapes.
// Runs as a child process (`node --import tsx bench/model/capture.ts ARCH SIZE BATCH`) and
// prints one JSON line: the step is recorded into a command batch that is never submitted, so
// no kernel runs and the buffers are never touched (the process exits with the batch open).
// The adapter is presented to the kernels as a hardware one with nothing tuned, so every
// family takes the version it takes on an untuned GPU (conv2d: v2 tiles, v4 for the attention
// MLP) rather than the CPU adapter's, with a GPU's binding limit; the second step is the one
// recorded (steady state).
import { initGpu, gpu } from '../../src/index.ts';
import { ARCHS, makeTrainStep, type StepPhase } from '../train_step.ts';
import { memoryStore, setAutotuneStore } from '../../src/kernels.ts';

/** The binding limit the capture assumes (bytes). */
export const GPU_BINDING_LIMIT = 2 ** 30;

export interface CapturedDispatch { phase: StepPhase; pipeline: string; label: string; workgroups: readonly [number, number, number] }
export interface Capture { arch: string; size: number; batch: number; bindingLimit: number; dispatches: CapturedDispatch[] }

export async function captureStep(arch: string, size: number, batch: number): Promise<Capture> {
  if (!(arch in ARCHS)) throw new Error(`capture: no architecture ${arch} (have ${Object.keys(ARCHS).join(', ')})`);
  await initGpu();
  const g = gpu();
  setAutotuneStore(memoryStore());
  // a GPU's binding limit (WebGPU on discrete GPUs: 1 GiB and more), so that no pass is cut into
  // batch chunks that only this CPU adapter's 128 MiB limit would need
  const limits = new Proxy(g.limits, { get: (t, k) => (k === 'maxStorageBufferBindingSize' ? Math.max(t.maxStorageBufferBindingSize, GPU_BINDING_LIMIT) : Reflect.get(t, k, t)) });
  g.limits = limits;
  g.adapter = { ...g.adapter, vendor: 'modelled', architecture: 'modelled-gpu', device: '', description: 'untuned hardware adapter', software: false, limits };
  const t = makeTrainStep(arch, size, batch);
  t.record().dispose();
  const dispatches: CapturedDispatch[] = [];
  let phase: StepPhase = 'forward';
  g.recorder.onDispatch = (pipeline, label, workgroups) => dispatches.push({ phase, pipeline, label, workgroups: [...workgroups] as const });
  t.record((p) => { phase = p; }).dispose();
  g.recorder.onDispatch = null;
  return { arch, size, batch, bindingLimit: g.limits.maxStorageBufferBindingSize, dispatches };
}

if (process.argv[1]?.endsWith('capture.ts')) {
  const [arch = 'resnest50', size = '224', batch = '32'] = process.argv.slice(2);
  const capture = await captureStep(arch, Number(size), Number(batch));
  process.stdout.write(`${JSON.stringify(capture)}\n`, () => process.exit(0));
}
