// The version contract (kernels/versions.ts), generically over every family in
// kernels/families.ts: every choice (version and tuning parameters) of every family, forced by
// setKernelVersion, is the one chosen wherever it runs and gives the f64 reference's values on
// forward and backward (the harness, test/kernels/version_harness.ts, which the browser test
// runs on SwiftShader too); the default rule answers with a usable choice; choice ids
// round-trip; bad ids are refused naming the family. A family added to the registry without a
// harness fails the test.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { gpu } from '../../src/gpu/index.ts';
import { setKernelVersion } from '../../kernels/autotune.ts';
import { kernelFamilies } from '../../kernels/families.ts';
import { adapterHas, allChoices, chooseVersion, parseChoice, runs, usableChoices, type KernelFamily, type KernelVersion } from '../../kernels/versions.ts';
import { checkChoice, harness } from './version_harness.ts';
import { assertThrowsWith, setupGpu } from '../helpers.ts';

const s = suite('kernels: the version contract, every version of every family');
s.before(setupGpu);

s('every family in the registry has a harness here, ops, and versions that say what they are', () => {
  assert.ok(kernelFamilies.length >= 5);
  for (const fam of kernelFamilies) {
    assert.ok(harness[fam.name], `no harness for family ${fam.name}`);
    assert.ok(fam.ops.length > 0, `${fam.name} has no ops`);
    for (const [name, v] of Object.entries(fam.versions)) assert.ok(/^v\d+$/.test(name) && v.about.length > 10, `${fam.name} ${name}`);
  }
});

s('choice ids round-trip; the default rule answers with a usable choice for every op and shape', () => {
  for (const fam of kernelFamilies) {
    for (const id of allChoices(fam)) assert.is(parseChoice(fam, id).id, id);
    for (const c of harness[fam.name]) {
      for (const [op, shape] of Object.entries(c.shapes)) {
        const usable = usableChoices(fam, shape, op);
        assert.ok(usable.includes(fam.defaultChoice(op, shape, gpu().adapter, usable)), `${fam.name} ${op} default`);
      }
    }
  }
});

s('bad choices are refused naming the family: unknown version, unknown parameter, value not offered', () => {
  const [conv, , bn] = kernelFamilies;
  assertThrowsWith(() => parseChoice(conv, 'v11'), /conv2d: no version v11 \(have v1, v2, v3, v4, v5, v6, v7, v8, v9, v10\)/);
  assertThrowsWith(() => parseChoice(conv, 'v1(tile=8)'), /conv2d: version v1 has no parameter tile/);
  assertThrowsWith(() => parseChoice(bn, 'v2(reductionThreads=5)'), /batchnorm2d: v2 parameter reductionThreads must be one of 1024, 32768, got 5/);
  assertThrowsWith(() => chooseVersion(kernelFamilies[1], 'fwd', { M: 3, N: 5, K: 3 }, 'v2'), /matmul_fwd 3x3x5: version v2 cannot run this shape/);
});

s('a version that is not automatic runs only when requested or forced: never the default', () => {
  const fam: KernelFamily<{ n: number }> = {
    name: 'contract_probe', ops: ['fwd'], shapeKey: (x) => `n${x.n}`,
    versions: {
      v1: { about: 'runs anything, by default', supports: () => true },
      v2: { about: 'runs even n, only when asked', supports: (x) => x.n % 2 === 0, automatic: () => false },
    },
    defaultChoice: (_op, _x, _a, usable) => usable[usable.length - 1],
  };
  assert.is(chooseVersion(fam, 'fwd', { n: 4 }).id, 'v1', 'v2 is not among the default rule\'s choices');
  assert.is(chooseVersion(fam, 'fwd', { n: 4 }, 'v2').id, 'v2');
  setKernelVersion('contract_probe', 'v2');
  try {
    assert.is(chooseVersion(fam, 'fwd', { n: 4 }).id, 'v2', 'forced, it runs');
    assert.is(chooseVersion(fam, 'fwd', { n: 3 }).id, 'v1', 'forced, it still runs only where it can');
  } finally { setKernelVersion('contract_probe', null); }
  assertThrowsWith(() => chooseVersion(fam, 'fwd', { n: 3 }, 'v2'), /contract_probe_fwd n3: version v2 cannot run this shape/);
});

s('runs: what the version needs of the adapter, then whether it supports the shape and pass', () => {
  const withFeature = { ...gpu().adapter, features: new Set(['probe-feature']) };
  const without = { ...gpu().adapter, features: new Set<string>() };
  // a version whose supports() forgets the adapter check: runs() still refuses it where the need is missing
  const v: KernelVersion<{ n: number }> = {
    about: 'needs a probe feature, runs even n in the fwd pass', needs: (a) => a.features.has('probe-feature'),
    supports: (x, _a, op) => x.n % 2 === 0 && op === 'fwd',
  };
  assert.equal([runs(v, { n: 4 }, withFeature, 'fwd'), runs(v, { n: 3 }, withFeature, 'fwd'), runs(v, { n: 4 }, withFeature, 'bwd'),
    runs(v, { n: 4 }, without, 'fwd')], [true, false, false, false]);
  assert.ok(runs({ about: 'no needs, any shape', supports: () => true }, { n: 1 }, without, 'fwd'), 'no needs: any adapter');
});

for (const fam of kernelFamilies as KernelFamily<unknown>[]) {
  for (const choice of allChoices(fam)) {
    s(`${fam.name} ${choice}: chosen wherever it runs when forced, and matches the f64 reference`, async () => {
      const ran = await checkChoice(fam, choice);
      // a version needing what this adapter lacks (a feature, a subgroup size) runs nothing here, and says so
      const lacks = !adapterHas(fam, parseChoice(fam, choice).version);
      assert.ok(ran > 0 || lacks, `${fam.name} ${choice} runs none of the harness's shapes`);
      if (lacks) console.log(`  ${fam.name} ${choice}: not run, this adapter lacks what it needs`);
    });
  }
}

s.run();
