// Node-only: a WebGPU instance from Dawn (package `webgpu`), plus the fix for its busy polling.
//
// Dawn's Node bindings re-arm `globalThis.setImmediate` to call ProcessEvents while any
// promise (onSubmittedWorkDone, mapAsync) is pending. On a 2-core machine running a CPU
// Vulkan driver that spin takes a whole core from the driver. The library's own waits
// go through `libraryWait()`: for their first 2 ms the spin stays (round trip ~0.05 ms),
// after that the re-arm becomes setTimeout(0), which frees the core. Outside the
// library's waits `setImmediate` behaves exactly as Node's.
import { create, globals } from 'webgpu';

let instance: GPU | null = null; // held for the life of the process: Dawn crashes if it is collected
const nativeSetImmediate = globalThis.setImmediate;
let activeWaits = 0;
let waitStart = 0;
let politePolling = true;

function pollingSetImmediate(this: unknown, fn: (...a: unknown[]) => void, ...args: unknown[]): NodeJS.Immediate {
  if (politePolling && activeWaits > 0 && performance.now() - waitStart > 2) {
    return setTimeout(fn, 0, ...args) as unknown as NodeJS.Immediate;
  }
  return nativeSetImmediate(fn, ...args);
}
Object.assign(pollingSetImmediate, nativeSetImmediate);

export function dawnGpu(flags: string[] = []): GPU {
  if (!instance) {
    Object.assign(globalThis, globals);
    instance = create(flags);
    globalThis.setImmediate = pollingSetImmediate as typeof setImmediate;
  }
  return instance;
}

/** Wraps a library wait (queue drain, buffer map) so Dawn's polling yields the CPU after 2 ms. */
export async function libraryWait<T>(promise: Promise<T>): Promise<T> {
  if (activeWaits++ === 0) waitStart = performance.now();
  try {
    return await promise;
  } finally {
    activeWaits--;
  }
}

/** Benchmarks switch the fix off to measure what it buys. */
export function setPolitePolling(on: boolean): void {
  politePolling = on;
}
