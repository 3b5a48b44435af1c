// resnest-webgpu/kernels: the kernel families below the differentiable ops, for benchmarks and for
// users who drive kernels on their own buffers. Per family: the host functions (`<family><Pass>`,
// on bindings: a GPUBuffer or a region of one), its shape struct, its versions table and version
// choice, and the f64 CPU reference that defines correctness; then the version contract's
// helpers, autotune and the adapter's peak probes. Buffers come from `gpu().pool` or tensors'
// `.binding`; every call records into the open command batch like an op does.

// conv2d (implicit GEMM, texture and direct versions)
export {
  conv2dForward, conv2dBackward, conv2dBackwardInput, conv2dBackwardInputAdds, conv2dBackwardWeight, conv2dBackwardBias, conv2dVersion,
  conv2dFamily, versions as conv2dVersions, type Conv2dVersion, type Conv2dOp, type KernelOptions as Conv2dKernelOptions,
} from '../kernels/conv2d.ts';
export {
  type Conv2dGeometry, convOutSize, conv2dMacs, conv2dFwdCpu, conv2dBwdInputCpu, conv2dBwdWeightCpu, conv2dBwdBiasCpu,
  conv2dFwdAt, conv2dBwdInputAt, conv2dBwdWeightAt,
} from '../kernels/conv2d.ref.ts';

// matmul and linear
export { matmulForward, matmulVersion, matmulFamily, matmulFlops, matmulCpu, type MatmulOptions } from '../kernels/matmul.ts';
export { linearForward, linearBackwardInput, linearBackwardWeight, linearBackwardBias, linearFwdCpu, linearBwdCpu } from '../kernels/linear.ts';

// batch norm (fused residual add and ReLU)
export {
  batchNorm2dCoefficients, batchNorm2dApply, batchNorm2dBackward, batchNorm2dVersion, batchNorm2dFamily,
  type BatchNorm2dShape, type BatchNorm2dParamBindings, type BatchNorm2dBackwardOutputs,
} from '../kernels/batchnorm2d.ts';
export { batchNorm2dFwdCpu, batchNorm2dBwdCpu, type BatchNormCpuOptions, type BatchNormCpuForward, type BatchNormCpuBackward } from '../kernels/batchnorm2d.ref.ts';

// pooling (max, average, adaptive and global average)
export {
  maxPool2dForward, maxPool2dBackward, avgPool2dForward, avgPool2dBackward, adaptiveAvgPool2dForward, adaptiveAvgPool2dBackward,
  pool2dVersion, pool2dFamily, type Pool2dPass,
} from '../kernels/pool2d.ts';
export {
  type Pool2dShape, type AvgPoolMode, poolOutputSize, maxPool2dFwdCpu, maxPool2dBwdCpu, avgPool2dFwdCpu, avgPool2dBwdCpu,
  adaptiveAvgPool2dFwdCpu, adaptiveAvgPool2dBwdCpu,
} from '../kernels/pool2d.ref.ts';

// split attention (radix sum, its pooling, rSoftmax, the attention-weighted combine)
export {
  splitAttentionRadixSumForward, splitAttentionRadixSumBackward, splitAttentionPoolForward, splitAttentionPoolBackward,
  splitAttentionRSoftmaxForward, splitAttentionRSoftmaxBackward, splitAttentionCombineForward, splitAttentionCombineBackward,
  splitAttentionFamily, SA_TARGET_THREADS,
} from '../kernels/split_attention.ts';
export {
  type SplitShape, radixSumCpu, radixSumBwdCpu, splitAttentionPoolCpu, splitAttentionPoolBwdCpu, rSoftmaxCpu, rSoftmaxBwdCpu,
  splitAttentionCombineCpu, splitAttentionCombineBwdCpu,
} from '../kernels/split_attention.ref.ts';

// elementwise, reduction, loss, optimizer, metrics (one version each)
export {
  elementwiseBinary, elementwiseUnary, elementwiseReluBackward, elementwiseFill, elementwiseAxpy, binaryCpu, unaryCpu, reluBwdCpu,
  type BinaryOp, type UnaryOp,
} from '../kernels/elementwise.ts';
export { reduceSum, sumCpu } from '../kernels/reduce.ts';
export { partialSum, partialSumCpu, type PartialSumShape } from '../kernels/partial_sum.ts';
export { focalLossForward, focalLossBackward, focalLossCpu, type FocalLossParams, type FocalLossCpuResult } from '../kernels/focal_loss.ts';
export { sgdStep, sgdStepCpu, type SgdHyper } from '../kernels/sgd.ts';
export { metricsAttributeCounts, attributeCountsCpu, type AttributeCountsCpu } from '../kernels/metrics.ts';

// the version contract (kernels/versions.ts), the registry of families with versions, autotune
export {
  allChoices, usableChoices, chooseVersion, parseChoice, choiceId, runs, type Choice, type KernelFamily, type KernelVersion,
} from '../kernels/versions.ts';
export { kernelFamilies } from '../kernels/families.ts';
export {
  setKernelVersion, tunePending, pendingTunes, resetAutotune, setAutotuneStore, memoryStore,
  type AutotuneStore, type TuneResult,
} from '../kernels/autotune.ts';
export { fileStore, autotuneCachePath } from '../kernels/autotune_store_node.ts';
export { localStore } from '../kernels/autotune_store_browser.ts';

// the adapter's peaks, for rooflines
export { peakFma, peakCopy, peakDispatch } from '../kernels/peak.ts';
