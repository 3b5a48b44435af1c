// `F`: the differentiable functional API (PyTorch's torch.nn.functional names, camelCase).
export { add, sub, mul, scale, relu, reshape } from './ops/elementwise.ts';
export { sum, mean } from './ops/reduce.ts';
export { conv2d, conv2dGeometry } from './ops/conv2d.ts';
export { linear } from './ops/linear.ts';
export { batchNorm2d } from './ops/batchnorm2d.ts';
export type { BatchNorm2dOptions } from './ops/batchnorm2d.ts';
export { sigmoidFocalLoss, binaryCrossEntropyWithLogits, readLoss, lossIsFinite } from './ops/loss.ts';
export type { SigmoidFocalLossOptions, LossReduction } from './ops/loss.ts';
export { maxPool2d, avgPool2d, adaptiveAvgPool2d } from './ops/pool2d.ts';
export type { MaxPool2dOptions, AvgPool2dOptions } from './ops/pool2d.ts';
export { radixSum, splitAttentionPool, rSoftmax, splitAttentionCombine } from './ops/split_attention.ts';
