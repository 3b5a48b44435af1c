// The version page of test/browser/versions.test.ts, bundled for Chromium: runs the version
// harness (test/kernels/version_harness.ts, the one test/kernels/versions.test.ts runs on
// lavapipe) for the given choices of the conv2d and matmul families on the browser's WebGPU
// adapter, each forced in turn, and reports per choice: pass, fail (with the error), or unsupported (the
// choice runs none of the harness's shapes on this adapter, with the features it has).
import { gpu, initGpu } from '../../src/gpu/index.ts';
import { conv2dFamily } from '../../kernels/conv2d.ts';
import { matmulFamily } from '../../kernels/matmul.ts';
import { adapterHas, allChoices, parseChoice, type KernelFamily } from '../../kernels/versions.ts';
import { checkChoice } from '../kernels/version_harness.ts';

export interface VersionResult { family: string; choice: string; status: 'pass' | 'fail' | 'unsupported'; adapterLacks: boolean; cases: number; ms: number; message?: string }
export interface VersionReport { adapter: string; software: boolean; features: string[]; subgroupSizes: [number, number]; results: VersionResult[] }

/** Runs the named choices of each family (all of them where a family is not named). */
async function runVersionTests(choices: Record<string, string[]>): Promise<VersionReport> {
  await initGpu();
  const results: VersionResult[] = [];
  const features = [...gpu().features].sort();
  for (const fam of [conv2dFamily, matmulFamily] as KernelFamily<unknown>[]) {
    for (const choice of choices[fam.name] ?? allChoices(fam)) {
      const t0 = performance.now();
      try {
        const cases = await checkChoice(fam, choice);
        results.push({ family: fam.name, choice, adapterLacks: !adapterHas(fam, parseChoice(fam, choice).version), cases, ms: performance.now() - t0, status: cases ? 'pass' : 'unsupported',
          ...(cases ? {} : { message: `runs none of the harness's shapes on this adapter (features: ${features.join(', ') || 'none'}; subgroup sizes ${gpu().adapter.subgroupMinSize}-${gpu().adapter.subgroupMaxSize})` }) });
      } catch (e) {
        results.push({ family: fam.name, choice, adapterLacks: !adapterHas(fam, parseChoice(fam, choice).version), cases: 0, ms: performance.now() - t0, status: 'fail', message: (e as Error).message });
      }
    }
  }
  const a = gpu().adapter;
  return { adapter: `${a.vendor} ${a.architecture} ${a.device} ${a.description}`.trim(), software: a.software, features,
    subgroupSizes: [a.subgroupMinSize, a.subgroupMaxSize], results };
}

(globalThis as { runVersionTests?: typeof runVersionTests }).runVersionTests = runVersionTests;
