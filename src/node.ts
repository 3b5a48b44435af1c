// Node entry (`resnest-webgpu/node`): the whole library plus what needs the filesystem or threads.
export * from './index.ts';
export { loadSafetensors, saveSafetensors } from './io/safetensors_fs.ts';
export { dawnGpu, libraryWait } from './gpu/dawn.ts';
export { loadTorchStateDict, loadWeights } from './io/weights_fs.ts';
