// How the runtime obtains a GPU object and waits on it. Node installs Dawn's provider
// (src/gpu/dawn.ts); the browser uses navigator.gpu and plain awaits.
export interface GpuProvider {
  gpu(): GPU | undefined;
  wait<T>(promise: Promise<T>): Promise<T>;
  setPolitePolling?(on: boolean): void;
  name: string;
}

export const browserProvider: GpuProvider = {
  name: 'browser',
  gpu: () => (globalThis.navigator as Navigator | undefined)?.gpu,
  wait: (p) => p,
};
