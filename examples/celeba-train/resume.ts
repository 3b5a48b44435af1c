// What --resume continues: the saved run's settings. Flags given again must agree with them,
// except those meant to change on resume (learning rate, epochs, workers, autotune, disk policy).
import { CHANGEABLE_ON_RESUME, DEFAULTS, flagOf, type TrainOptions } from './options.ts';

const show = (v: unknown): string => (v === null ? 'none' : String(v));

/** The options of a resumed run: the saved ones, with the changeable flags the command line gave. */
export function resumeOptions(saved: TrainOptions, given: ReadonlySet<keyof TrainOptions>, now: TrainOptions, source: string): TrainOptions {
  const conflicts: string[] = [];
  for (const key of given) {
    if (CHANGEABLE_ON_RESUME.includes(key) || key === 'lrGiven') continue;
    const was = saved[key] === undefined ? DEFAULTS[key] : saved[key];
    if (was !== now[key]) conflicts.push(`${flagOf(key)} ${show(now[key])} (the run has ${show(was)})`);
  }
  if (conflicts.length) {
    throw new Error(`--resume: ${source} was trained with other settings: ${conflicts.join(', ')}; ` +
      'drop these flags to continue it, or train into another --out');
  }
  const opts: TrainOptions = { ...DEFAULTS, ...saved, out: now.out, resume: true, lrGiven: given.has('lr') };
  for (const key of CHANGEABLE_ON_RESUME) if (given.has(key)) (opts as unknown as Record<string, unknown>)[key] = now[key];
  return opts;
}
