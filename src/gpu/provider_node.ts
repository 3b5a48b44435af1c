// Node's provider. The browser bundle replaces this module with provider_browser.ts.
import { dawnGpu, libraryWait, setPolitePolling } from './dawn.ts';
import type { GpuProvider } from './provider.ts';

export const defaultProvider: GpuProvider = {
  name: 'dawn',
  gpu: () => dawnGpu(),
  wait: libraryWait,
  setPolitePolling,
};
