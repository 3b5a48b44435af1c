// `optim`: optimizers and learning-rate schedulers.
export { SGD, splitWeightDecayGroups } from './sgd.ts';
export type { SGDOptions, ParamGroup, ParamGroupSpec, SGDStateDict } from './sgd.ts';
export { ReduceLROnPlateau } from './plateau.ts';
export type { ReduceLROnPlateauOptions, ReduceLROnPlateauState, PlateauMode, ThresholdMode, LrHolder } from './plateau.ts';
