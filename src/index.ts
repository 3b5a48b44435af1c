// resnest-webgpu: public API.
export { initGpu, gpu, hasGpu, releaseDevice, timeGpu } from './gpu/index.ts';
export type { Gpu, InitOptions } from './gpu/index.ts';
export { Tensor } from './tensor.ts';
export type { TensorOptions } from './tensor.ts';
export { noGrad, isGradEnabled, clearTape } from './autograd/tape.ts';
export { tidy } from './autograd/scope.ts';
export { Rng, manualSeed } from './rng.ts';
export * as F from './functional.ts';
export * as optim from './optim/index.ts';
export * as nn from './nn/index.ts';
export { parseSafetensors, serializeSafetensors, SafetensorsError } from './io/safetensors.ts';
export type { TensorToWrite } from './io/safetensors.ts';
export { parseTorchStateDict, isTorchFile, TorchFileError, PickleError } from './io/torch_state_dict.ts';
export type { TorchStateDict } from './io/torch_state_dict.ts';
export { AttributeAccuracy } from './metrics.ts';
export { tunePending, setKernelVersion } from '../kernels/autotune.ts';
export { AttributeFineTuner, predictWithHeads, fineTuneTransform, faceSquare } from './finetune.ts';
export type { FineTuneOptions, StepReport } from './finetune.ts';
