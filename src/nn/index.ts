// `nn`: modules with PyTorch's names and state_dict layout.
export { Module } from './module.ts';
export type { StateArray, StateValue, LoadOptions } from './module.ts';
export { Conv2d, BatchNorm2d, Linear, Container, concatLinear } from './layers.ts';
export type { Conv2dLayerOptions, Pair } from './layers.ts';
export { SplAtConv2d, Bottleneck, ResNeSt, resnest14, resnest26, resnest50, resnest101, architectures } from './resnest.ts';
export type { ResNeStConfig } from './resnest.ts';
