import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { ReduceLROnPlateau, type ReduceLROnPlateauOptions, type ReduceLROnPlateauState } from '../../src/optim/plateau.ts';

const s = suite('optim: ReduceLROnPlateau');

type Num = number | 'NaN' | 'Infinity' | '-Infinity';
interface TorchOptions {
  mode?: 'min' | 'max'; factor?: number; patience?: number; threshold?: number;
  threshold_mode?: 'rel' | 'abs'; cooldown?: number; min_lr?: number | number[]; eps?: number;
}
interface Step { lrs: number[]; num_bad_epochs: number; cooldown_counter: number; best: Num }
interface Case { name: string; options: TorchOptions; initial_lrs: number[]; metrics: Num[]; steps: Step[] }

const fixture = JSON.parse(readFileSync(new URL('../fixtures/optim/plateau.json', import.meta.url), 'utf8')) as { cases: Case[] };

const toOptions = (o: TorchOptions): ReduceLROnPlateauOptions => ({
  mode: o.mode, factor: o.factor, patience: o.patience, threshold: o.threshold,
  thresholdMode: o.threshold_mode, cooldown: o.cooldown, minLr: o.min_lr, eps: o.eps,
});

function closeLr(got: number, want: number): boolean {
  return Math.abs(got - want) <= 1e-12 * Math.abs(want);
}

function makeScheduler(c: Case) {
  const optimizer = { paramGroups: c.initial_lrs.map((lr) => ({ lr })) };
  return { optimizer, scheduler: new ReduceLROnPlateau(optimizer, toOptions(c.options)) };
}

function checkStep(c: Case, i: number, sched: ReduceLROnPlateau, lrs: number[]): void {
  const want = c.steps[i]!;
  const where = `${c.name}, step ${i + 1} (metric ${c.metrics[i]})`;
  assert.ok(lrs.every((lr, g) => closeLr(lr, want.lrs[g]!)), `${where}: lr ${lrs} vs ${want.lrs}`);
  assert.is(sched.numBadEpochs, want.num_bad_epochs, `${where}: numBadEpochs`);
  assert.is(sched.cooldownCounter, want.cooldown_counter, `${where}: cooldownCounter`);
  assert.ok(Object.is(sched.best, Number(want.best)), `${where}: best ${sched.best} vs ${want.best}`);
  assert.is(sched.lastEpoch, i + 1);
}

s(`replays all ${fixture.cases.length} PyTorch traces (lr within 1e-12 relative, counters exact)`, () => {
  assert.ok(fixture.cases.length >= 15);
  for (const c of fixture.cases) {
    const { optimizer, scheduler } = makeScheduler(c);
    c.metrics.forEach((m, i) => {
      scheduler.step(Number(m));
      checkStep(c, i, scheduler, optimizer.paramGroups.map((g) => g.lr));
      assert.equal(scheduler.lastLr, optimizer.paramGroups.map((g) => g.lr));
    });
  }
});

s('a single-lr holder with a get/set accessor is driven the same way', () => {
  const c = fixture.cases.find((x) => x.name.startsWith('celeba recipe'))!;
  let stored = c.initial_lrs[0]!;
  const writes: number[] = [];
  const holder = { get lr() { return stored; }, set lr(v: number) { writes.push(v); stored = v; } };
  const sched = new ReduceLROnPlateau(holder, toOptions(c.options));
  c.metrics.forEach((m, i) => { sched.step(Number(m)); checkStep(c, i, sched, [holder.lr]); });
  const changes = c.steps.filter((st, i) => st.lrs[0] !== (i === 0 ? c.initial_lrs[0] : c.steps[i - 1]!.lrs[0])).length;
  assert.ok(changes > 0);
  assert.is(writes.length, changes, 'lr is written only when it changes');
});

s('stateDict survives JSON and resumes every trace identically from its midpoint', () => {
  for (const c of fixture.cases) {
    const { optimizer, scheduler } = makeScheduler(c);
    const half = Math.floor(c.metrics.length / 2);
    for (let i = 0; i < half; i++) scheduler.step(Number(c.metrics[i]));
    const state = JSON.parse(JSON.stringify(scheduler.stateDict())) as ReduceLROnPlateauState;
    const resumedOpt = { paramGroups: optimizer.paramGroups.map((g) => ({ lr: g.lr })) };
    const resumed = new ReduceLROnPlateau(resumedOpt, {});
    resumed.loadStateDict(state);
    for (let i = half; i < c.metrics.length; i++) {
      resumed.step(Number(c.metrics[i]));
      checkStep(c, i, resumed, resumedOpt.paramGroups.map((g) => g.lr));
    }
  }
});

s('stateDict encodes an infinite best as a string', () => {
  const sched = new ReduceLROnPlateau({ lr: 1 }, { mode: 'max' });
  const state = sched.stateDict();
  assert.is(state.best, '-Infinity');
  assert.equal(state.minLrs, [0]);
  assert.equal({ ...state, best: 0, minLrs: [] }, {
    mode: 'max', factor: 0.1, patience: 10, threshold: 1e-4, thresholdMode: 'rel', cooldown: 0, minLrs: [], eps: 1e-8,
    best: 0, numBadEpochs: 0, cooldownCounter: 0, lastEpoch: 0, lastLr: [],
  });
});

s('rejects bad options like PyTorch', () => {
  assert.throws(() => new ReduceLROnPlateau({ lr: 1 }, { factor: 1 }), /factor should be < 1.0/);
  assert.throws(() => new ReduceLROnPlateau({ lr: 1 }, { mode: 'up' as 'min' }), /mode up is unknown/);
  assert.throws(() => new ReduceLROnPlateau({ lr: 1 }, { thresholdMode: 'pct' as 'rel' }), /threshold mode pct/);
  assert.throws(() => new ReduceLROnPlateau({ paramGroups: [{ lr: 1 }, { lr: 2 }] }, { minLr: [0] }), /expected 2 minLr values, got 1/);
  const sched = new ReduceLROnPlateau({ lr: 1 });
  assert.throws(() => sched.loadStateDict({ ...sched.stateDict(), minLrs: [0, 0] }), /2 minLr values for 1 groups/);
});

s('reset clears best and counters but keeps the learning rate', () => {
  const opt = { lr: 1 };
  const sched = new ReduceLROnPlateau(opt, { patience: 0, cooldown: 3 });
  sched.step(1);
  sched.step(2);
  assert.is(opt.lr, 0.1);
  assert.is(sched.cooldownCounter, 3);
  sched.reset();
  assert.equal([sched.best, sched.numBadEpochs, sched.cooldownCounter, opt.lr], [Infinity, 0, 0, 0.1]);
});

s.run();
