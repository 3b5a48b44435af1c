// ========================= celeba-train: the training run =========================
// Epoch loop with the report's recipe, atomic per-epoch checkpoints, resume, SIGINT handling,
// the report's checkpoint rule (least |train acc - val acc|), final val/test evaluation.
import { existsSync, mkdirSync, writeFileSync, unlinkSync, copyFileSync, renameSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { AttributeAccuracy, gpu, initGpu, optim, tunePending } from '../../src/node.ts';
import { createLoader, type ImageLoader, type TrainTransform } from '../../src/vision/index.ts';
import { celebaEvalTransform, celebaTrainTransform, type CelebADataset } from './celeba/index.ts';
import type { TrainOptions } from './options.ts';
import { alphaVector, buildModel, datasetRoot, loadDataset, modelFromCheckpoint } from './setup.ts';
import { evaluate, trainStep, type EvalResult, type LossSpec } from './steps.ts';
import { loadCheckpoint, restoreTraining, saveCheckpoint, type EpochMetrics, type LoadedCheckpoint, type PartialEpoch, type RunState } from './checkpoint.ts';
import { Progress } from './progress.ts';
import { writeReport } from './report.ts';
import { resumeOptions } from './resume.ts';
import { checkRunInputs } from './validate.ts';
import { SkipLog } from './skipped.ts';
import { readSweepGrid } from './sweep_grid.ts';
import type { TrainingData } from './dataset.ts';
import { warnAboutStart } from './report_facts.ts';
import { labelledRows, outputNames } from './finetune_checkpoint.ts';

export interface RunSummary { out: string; history: EpochMetrics[]; selectedEpoch: number; bestValEpoch: number; val: EvalResult; test: EvalResult | null; interrupted: boolean }

const log = (s: string) => process.stderr.write(`${s}\n`);

function trainTransform(opts: TrainOptions): TrainTransform {
  const recipe = celebaTrainTransform(opts.imageSize);
  return opts.augment === 'light' ? { ...recipe, scale: [0.7, 1], brightness: 0.2, saturation: 0.2, hue: 0.05 } : recipe;
}
const epochFile = (out: string, epoch: number) => join(out, `epoch-${String(epoch).padStart(2, '0')}.safetensors`);

export function checkWritable(out: string): void {
  try {
    mkdirSync(out, { recursive: true });
    const probe = join(out, `.write-test-${process.pid}`);
    writeFileSync(probe, Buffer.alloc(1 << 20)); // 1 MiB: a nearly full disk fails here, not after an epoch
    unlinkSync(probe);
  } catch (e) {
    throw new Error(`--out ${out} is not writable (${(e as Error).message}); nothing was trained`);
  }
}

function atomicWrite(path: string, text: string): void {
  writeFileSync(`${path}.tmp`, text);
  renameSync(`${path}.tmp`, path);
}

/**
 * One training run. With `resume` and a checkpoint in `out`, the run continues with the saved
 * settings; `given` (the options the command line set) must agree with them except where a
 * resumed run may change them (see resume.ts).
 */
export async function train(requested: TrainOptions, given: ReadonlySet<keyof TrainOptions> = new Set()): Promise<RunSummary> {
  const lastPath = join(requested.out, 'last.safetensors');
  const resumed = requested.resume && existsSync(lastPath) ? await loadCheckpoint(lastPath) : null;
  if (resumed && (resumed.state.fineTuned?.length || resumed.state.attributes)) {
    const added = resumed.state.fineTuned?.map((r) => r.attribute) ?? [];
    throw new Error(`--resume: ${lastPath} is a fine-tuned model${added.length ? ` (new attribute ${added.join(', ')})` : ''}, ` +
      'not a CelebA training run, so there is no run to continue; train into another --out');
  }
  const opts = resumed ? resumeOptions(resumed.state.options, given, requested, lastPath) : requested;
  checkRunInputs(opts);
  checkWritable(opts.out);
  if (opts.resume && !resumed) log(`--resume: no checkpoint in ${opts.out}, starting from scratch`);
  const root = await datasetRoot(opts, log);
  const ds = loadDataset(root, opts); // bad data stops the run before the device starts
  const skips = new SkipLog(log);
  skips.labelLines(ds.problems);
  warnAboutStart(opts, ds, log);
  if (opts.sweepResult) readSweepGrid(opts.sweepResult); // a wrong --sweep-result fails now, not after training
  await initGpu();
  const A = ds.attributes.length;
  const alpha = resumed?.state.alpha ?? alphaVector(ds, opts.alphaRule);
  const spec: LossSpec = { kind: opts.loss, alpha, gamma: opts.gamma };

  const model = await buildModel(opts.arch, A, opts.seed, resumed ? null : opts.pretrained, log);
  log(`${opts.arch}: ${model.numParameters().toLocaleString('en-US')} parameters; ${ds.files.length} images in ${root}`);
  const optimizer = new optim.SGD(optim.splitWeightDecayGroups(model.parameters(), opts.weightDecay), { lr: opts.lr, momentum: opts.momentum });
  const scheduler = new optim.ReduceLROnPlateau(optimizer, { mode: 'min', factor: opts.factor, patience: opts.patience, minLr: opts.minLr });
  if (resumed) restoreTraining(resumed, model, optimizer, scheduler, lastPath);
  if (resumed && opts.lrGiven) optimizer.lr = opts.lr;
  const history: EpochMetrics[] = resumed?.state.history ?? [];
  let partial: PartialEpoch | null = resumed?.state.partial ?? null;
  let globalStep = resumed?.state.globalStep ?? 0;
  if (resumed) log(`resumed from ${lastPath}: ${history.length} epochs done${partial ? `, ${partial.steps} steps into the next` : ''}`);
  atomicWrite(join(opts.out, 'metrics.jsonl'), history.map((h) => JSON.stringify(h) + '\n').join(''));

  const workers = opts.workers ?? undefined;
  const trainLoader = createLoader({ dataset: ds, split: 'train', batchSize: opts.batch, transform: trainTransform(opts),
    seed: opts.seed, workers, skipBadImages: opts.skipBadImages, state: resumed?.state.loader, dropLast: false });
  const valLoader = createLoader({ dataset: ds, split: 'val', batchSize: opts.batch, transform: celebaEvalTransform(opts.imageSize), workers, skipBadImages: opts.skipBadImages });

  let interrupt = 0;
  const onSigint = () => { if (++interrupt > 1) process.exit(130); log('\ninterrupt: saving a checkpoint after this step (again to quit now)'); };
  process.on('SIGINT', onSigint);
  const runState = (): RunState => ({
    format: 'celeba-train/1', completedEpochs: history.length, globalStep, options: opts, alpha,
    optimizer: { step: 0, paramGroups: [] }, scheduler: scheduler.stateDict(), loader: trainLoader.state(), history, partial,
  });
  const accuracy = new AttributeAccuracy(A);
  try {
    model.train();
    for (let epoch = history.length + 1; epoch <= opts.epochs; epoch++) {
      const sums: PartialEpoch = partial ?? { lossSum: 0, steps: 0, images: 0, correct: new Array(A).fill(0), seconds: 0 };
      const skippedImages = sums.skippedImages ?? [];
      partial = null;
      accuracy.reset();
      const t0 = performance.now() - sums.seconds * 1000;
      const progress = new Progress(`epoch ${epoch}/${opts.epochs} train`, trainLoader.batchesPerEpoch,
        (eta) => runEta(history, opts.epochs - epoch, eta, (performance.now() - t0) / 1000));
      for await (const batch of trainLoader.epoch()) {
        const loss = await trainStep(model, optimizer, batch, spec, accuracy, ++globalStep);
        if (opts.autotune && sums.steps === 0) {
          const tuned = await tunePending();
          if (tuned.length) log(`autotune: measured ${tuned.length} kernel shapes on this adapter (cached for later runs)`);
        }
        sums.lossSum += loss; sums.steps++; sums.images += batch.size;
        skippedImages.push(...skips.images('train', batch.skipped));
        progress.update(sums.steps, sums.images, sums.lossSum / sums.steps);
        if (interrupt) {
          const counts = await accuracy.read();
          partial = { ...sums, correct: sums.correct.map((c, j) => c + counts.correct[j]), seconds: (performance.now() - t0) / 1000, skippedImages };
          await saveCheckpoint(lastPath, model, optimizer, runState());
          log(`checkpoint saved to ${lastPath} (epoch ${epoch}, step ${sums.steps}); resume with --resume`);
          return await summarize(opts, history, ds, spec, true);
        }
      }
      const trainCounts = await accuracy.read();
      const trainAttrAcc = sums.correct.map((c, j) => (c + trainCounts.correct[j]) / sums.images);
      const val = await evaluate(model, valLoader, spec, `epoch ${epoch}/${opts.epochs} val`, A);
      skippedImages.push(...skips.images('val', val.skipped));
      const skipped = skippedImages.length;
      const lr = optimizer.lr;
      scheduler.step(val.loss);
      const seconds = (performance.now() - t0) / 1000;
      const metrics: EpochMetrics = {
        epoch, lr, trainLoss: sums.lossSum / sums.steps, trainAcc: mean(trainAttrAcc), valLoss: val.loss, valAcc: val.meanAccuracy,
        trainAttrAcc, valAttrAcc: val.accuracy, seconds, imagesPerSec: sums.images / seconds, skipped,
        ...(skipped ? { skippedImages } : {}),
      };
      history.push(metrics);
      await saveCheckpoint(epochFile(opts.out, epoch), model, optimizer, runState());
      // selected and best-val follow the finished epochs, so older epoch files can go; last is
      // written last: a crash before it repeats this epoch and these copies with it
      const chosen = selectEpochs(history);
      if (chosen.selected === epoch) copyAtomic(epochFile(opts.out, epoch), join(opts.out, 'selected.safetensors'));
      if (chosen.bestVal === epoch) copyAtomic(epochFile(opts.out, epoch), join(opts.out, 'best-val.safetensors'));
      copyAtomic(epochFile(opts.out, epoch), lastPath);
      pruneEpochFiles(opts.out, epoch, opts.keepCheckpoints);
      atomicWrite(join(opts.out, 'metrics.jsonl'), history.map((h) => JSON.stringify(h) + '\n').join(''));
      log(`epoch ${epoch}: train loss ${metrics.trainLoss.toFixed(4)} acc ${(100 * metrics.trainAcc).toFixed(2)}% | ` +
        `val loss ${metrics.valLoss.toFixed(4)} acc ${(100 * metrics.valAcc).toFixed(2)}% | lr ${+lr.toPrecision(6)} | ${seconds.toFixed(1)} s, ` +
        `${metrics.imagesPerSec.toFixed(1)} img/s${skipped ? ` | ${skipped} unreadable images skipped (train and val)` : ''}`);
    }
  } finally {
    process.off('SIGINT', onSigint);
    accuracy.dispose();
    await Promise.all([trainLoader.close(), valLoader.close()]);
    model.dispose();
    await gpu().recorder.sync();
  }
  return summarize(opts, history, ds, spec, false);
}

/**
 * Remaining seconds of the run: this epoch's training ETA and its validation, then the epochs
 * after it at the mean duration of the finished ones. Before any has finished, an epoch is this
 * one's training time plus 5% (CelebA's val split is 12% of train's images, forward only).
 */
export function runEta(history: EpochMetrics[], epochsAfter: number, epochEta: number, elapsed: number): number {
  const training = elapsed + epochEta;
  const perEpoch = history.length ? mean(history.map((h) => h.seconds)) : 1.05 * training;
  return epochEta + 0.05 * training + epochsAfter * perEpoch;
}

/** Deletes epoch-NN files older than the `keep` most recent (up to epoch `latest`). */
export function pruneEpochFiles(out: string, latest: number, keep: number): void {
  for (const name of readdirSync(out)) {
    const m = /^epoch-(\d+)\.safetensors$/.exec(name);
    if (m && Number(m[1]) <= latest - keep) unlinkSync(join(out, name));
  }
}

function copyAtomic(from: string, to: string): void {
  copyFileSync(from, `${to}.tmp`);
  renameSync(`${to}.tmp`, to);
}

const mean = (xs: number[]) => xs.reduce((s, v) => s + v, 0) / xs.length;

/** The report's rule: the epoch whose train and val accuracies are closest. */
export function selectEpochs(history: EpochMetrics[]): { selected: number; bestVal: number } {
  let selected = history[0], bestVal = history[0];
  for (const h of history) {
    if (Math.abs(h.trainAcc - h.valAcc) < Math.abs(selected.trainAcc - selected.valAcc)) selected = h;
    if (h.valAcc > bestVal.valAcc) bestVal = h;
  }
  return { selected: selected.epoch, bestVal: bestVal.epoch };
}

async function summarize(opts: TrainOptions, history: EpochMetrics[], ds: TrainingData, spec: LossSpec, interrupted: boolean): Promise<RunSummary> {
  if (interrupted || history.length === 0) {
    return { out: opts.out, history, selectedEpoch: 0, bestValEpoch: 0, val: { loss: NaN, accuracy: [], meanAccuracy: NaN, images: 0, skipped: [] }, test: null, interrupted };
  }
  const { selected, bestVal } = selectEpochs(history);
  const evalStart = performance.now();
  const results = await evaluateCheckpoint(join(opts.out, 'selected.safetensors'), ds, opts, spec, ['val', 'test']);
  new SkipLog(log).images('test', results.test?.skipped ?? []); // train and val skips were named during the epochs
  // on the synthetic set the best-validation checkpoint is evaluated on test too, for the rendered-attribute figure
  const bestValTest = opts.data === null && bestVal !== selected
    ? (await evaluateCheckpoint(join(opts.out, 'best-val.safetensors'), ds, opts, spec, ['test'])).test ?? null
    : opts.data === null ? results.test ?? null : null;
  await writeReport(opts, ds, history, selected, bestVal, results.val!, results.test ?? null, bestValTest, (performance.now() - evalStart) / 1000);
  log(`selected epoch ${selected} (least train/val accuracy gap); val ${(100 * results.val!.meanAccuracy).toFixed(2)}%` +
    (results.test ? `, test ${(100 * results.test.meanAccuracy).toFixed(2)}%` : '') + `; report: ${join(opts.out, 'report.md')}`);
  return { out: opts.out, history, selectedEpoch: selected, bestValEpoch: bestVal, val: results.val!, test: results.test ?? null, interrupted };
}

/**
 * `source` names the checkpoint in errors (its path, when a loaded checkpoint is given);
 * `onLeftOut` hears the names of outputs the dataset has no labels for (a fine-tuned attribute).
 */
export async function evaluateCheckpoint(checkpoint: string | LoadedCheckpoint, ds: CelebADataset,
  opts: Pick<TrainOptions, 'imageSize' | 'batch' | 'workers' | 'skipBadImages'>, spec: LossSpec, splits: ('val' | 'test')[],
  source = typeof checkpoint === 'string' ? checkpoint : 'checkpoint', onLeftOut: (names: string[]) => void = () => undefined): Promise<Partial<Record<'val' | 'test', EvalResult>>> {
  await initGpu();
  // a fine-tuned checkpoint has outputs beyond the dataset's attributes: those without labels are left out
  const loaded = typeof checkpoint === 'string' ? await loadCheckpoint(checkpoint) : checkpoint;
  const fc = loaded.model.get('fc.weight');
  if (!fc) throw new Error(`${source}: no model.fc.weight: not a ResNeSt checkpoint`);
  const names = outputNames(loaded.state, fc.shape[0], source);
  const { state, leftOut } = labelledRows(loaded.model, names, ds.attributes, source);
  if (leftOut.length) onLeftOut(leftOut);
  const model = await modelFromCheckpoint({ ...loaded, model: state }, source, ds.attributes.length);
  const out: Partial<Record<'val' | 'test', EvalResult>> = {};
  try {
    for (const split of splits) {
      let loader: ImageLoader;
      try {
        loader = createLoader({ dataset: ds, split, batchSize: opts.batch, transform: celebaEvalTransform(opts.imageSize), workers: opts.workers ?? undefined, skipBadImages: opts.skipBadImages });
      } catch { continue; } // an empty split (e.g. limited away)
      try { out[split] = await evaluate(model, loader, spec, `eval ${split}`, ds.attributes.length); } finally { await loader.close(); }
    }
  } finally {
    model.dispose();
  }
  return out;
}
