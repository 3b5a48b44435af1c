// ReduceLROnPlateau with PyTorch's exact semantics (torch.optim.lr_scheduler, 1.13): same
// comparisons in the same floating-point order, so LR sequences match PyTorch bit for bit.
//
// The optimizer is anything exposing its learning rate(s):
//   - `{ lr: number }` (a plain field or a get/set accessor): one parameter group, or
//   - `{ paramGroups: { lr: number }[] }`: one entry per parameter group.
// The scheduler reads and writes `lr` there and nothing else.

export type PlateauMode = 'min' | 'max';
export type ThresholdMode = 'rel' | 'abs';

export type LrHolder = { lr: number } | { paramGroups: Array<{ lr: number }> };

export interface ReduceLROnPlateauOptions {
  /** 'min': the metric should decrease (loss); 'max': increase (accuracy). Default 'min'. */
  mode?: PlateauMode;
  /** new lr = lr * factor; must be < 1. Default 0.1. */
  factor?: number;
  /** Non-improving epochs tolerated; the lr drops at the end of the (patience+1)-th. Default 10. */
  patience?: number;
  /** Minimum change that counts as an improvement. Default 1e-4. */
  threshold?: number;
  /** 'rel': relative to best (best * (1 -/+ threshold)); 'abs': best -/+ threshold. Default 'rel'. */
  thresholdMode?: ThresholdMode;
  /** Epochs to wait after a reduction before counting bad epochs again. Default 0. */
  cooldown?: number;
  /** Lower bound, one for all groups or one per group. Default 0. */
  minLr?: number | number[];
  /** Reductions smaller than eps are skipped. Default 1e-8. */
  eps?: number;
}

/** Non-finite numbers are stored as strings so the state survives JSON.stringify/parse. */
export type JsonNumber = number | 'Infinity' | '-Infinity' | 'NaN';

export interface ReduceLROnPlateauState {
  mode: PlateauMode;
  factor: number;
  patience: number;
  threshold: number;
  thresholdMode: ThresholdMode;
  cooldown: number;
  minLrs: number[];
  eps: number;
  best: JsonNumber;
  numBadEpochs: number;
  cooldownCounter: number;
  lastEpoch: number;
  lastLr: number[];
}

export class ReduceLROnPlateau {
  mode: PlateauMode;
  factor: number;
  patience: number;
  threshold: number;
  thresholdMode: ThresholdMode;
  cooldown: number;
  minLrs: number[];
  eps: number;
  best: number;
  numBadEpochs = 0;
  cooldownCounter = 0;
  lastEpoch = 0;
  /** Learning rates after the latest step (empty before the first). */
  lastLr: number[] = [];

  constructor(readonly optimizer: LrHolder, opts: ReduceLROnPlateauOptions = {}) {
    this.factor = opts.factor ?? 0.1;
    if (!(this.factor < 1)) throw new RangeError('ReduceLROnPlateau: factor should be < 1.0');
    const groups = this.groups().length;
    const minLr = opts.minLr ?? 0;
    if (Array.isArray(minLr)) {
      if (minLr.length !== groups) throw new RangeError(`ReduceLROnPlateau: expected ${groups} minLr values, got ${minLr.length}`);
      this.minLrs = [...minLr];
    } else {
      this.minLrs = new Array<number>(groups).fill(minLr);
    }
    this.patience = opts.patience ?? 10;
    this.cooldown = opts.cooldown ?? 0;
    this.eps = opts.eps ?? 1e-8;
    this.mode = opts.mode ?? 'min';
    this.threshold = opts.threshold ?? 1e-4;
    this.thresholdMode = opts.thresholdMode ?? 'rel';
    checkModes(this.mode, this.thresholdMode);
    this.best = this.modeWorse();
  }

  /** Call once per epoch with the validation metric. */
  step(metric: number): void {
    const current = Number(metric);
    this.lastEpoch += 1;
    if (this.isBetter(current, this.best)) {
      this.best = current;
      this.numBadEpochs = 0;
    } else {
      this.numBadEpochs += 1;
    }
    if (this.inCooldown) {
      this.cooldownCounter -= 1;
      this.numBadEpochs = 0; // bad epochs during cooldown do not count
    }
    if (this.numBadEpochs > this.patience) {
      this.reduceLr();
      this.cooldownCounter = this.cooldown;
      this.numBadEpochs = 0;
    }
    this.lastLr = this.groups().map((g) => g.lr);
  }

  get inCooldown(): boolean {
    return this.cooldownCounter > 0;
  }

  /** Same expressions as PyTorch (e.g. `best * (1 - threshold)`), so ties resolve identically. */
  isBetter(a: number, best: number): boolean {
    if (this.mode === 'min') {
      return this.thresholdMode === 'rel' ? a < best * (1 - this.threshold) : a < best - this.threshold;
    }
    return this.thresholdMode === 'rel' ? a > best * (this.threshold + 1) : a > best + this.threshold;
  }

  /** Restart the bookkeeping (best, bad epochs, cooldown); the learning rates are left as they are. */
  reset(): void {
    this.best = this.modeWorse();
    this.cooldownCounter = 0;
    this.numBadEpochs = 0;
  }

  stateDict(): ReduceLROnPlateauState {
    return {
      mode: this.mode, factor: this.factor, patience: this.patience, threshold: this.threshold,
      thresholdMode: this.thresholdMode, cooldown: this.cooldown, minLrs: [...this.minLrs], eps: this.eps,
      best: toJsonNumber(this.best), numBadEpochs: this.numBadEpochs, cooldownCounter: this.cooldownCounter,
      lastEpoch: this.lastEpoch, lastLr: [...this.lastLr],
    };
  }

  /** Restores the scheduler's own state; the optimizer's learning rates are not touched. */
  loadStateDict(state: ReduceLROnPlateauState): void {
    checkModes(state.mode, state.thresholdMode);
    if (state.minLrs.length !== this.groups().length) {
      throw new RangeError(`ReduceLROnPlateau: state has ${state.minLrs.length} minLr values for ${this.groups().length} groups`);
    }
    this.mode = state.mode;
    this.factor = state.factor;
    this.patience = state.patience;
    this.threshold = state.threshold;
    this.thresholdMode = state.thresholdMode;
    this.cooldown = state.cooldown;
    this.minLrs = [...state.minLrs];
    this.eps = state.eps;
    this.best = Number(state.best);
    this.numBadEpochs = state.numBadEpochs;
    this.cooldownCounter = state.cooldownCounter;
    this.lastEpoch = state.lastEpoch;
    this.lastLr = [...state.lastLr];
  }

  private reduceLr(): void {
    this.groups().forEach((group, i) => {
      const oldLr = Number(group.lr);
      const newLr = Math.max(oldLr * this.factor, this.minLrs[i]!);
      if (oldLr - newLr > this.eps) group.lr = newLr;
    });
  }

  private groups(): Array<{ lr: number }> {
    const opt = this.optimizer as { paramGroups?: Array<{ lr: number }> };
    return Array.isArray(opt.paramGroups) ? opt.paramGroups : [this.optimizer as { lr: number }];
  }

  private modeWorse(): number {
    return this.mode === 'min' ? Infinity : -Infinity;
  }
}

function checkModes(mode: string, thresholdMode: string): void {
  if (mode !== 'min' && mode !== 'max') throw new RangeError(`ReduceLROnPlateau: mode ${mode} is unknown`);
  if (thresholdMode !== 'rel' && thresholdMode !== 'abs') {
    throw new RangeError(`ReduceLROnPlateau: threshold mode ${thresholdMode} is unknown`);
  }
}

function toJsonNumber(x: number): JsonNumber {
  if (Number.isFinite(x)) return x;
  return Number.isNaN(x) ? 'NaN' : x > 0 ? 'Infinity' : '-Infinity';
}
