import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { formatTicks, formatValue, logTicks, niceStep, niceTicks, padRange, Scale } from '../../plot/index.ts';

const s = suite('plot: ticks and number labels');

s('nice ticks are 1/2/5 x 10^k multiples inside the range', () => {
  assert.equal(niceTicks(0, 1, 6).values, [0, 0.2, 0.4, 0.6, 0.8, 1]);
  assert.equal(niceTicks(0.62, 0.93, 6), { values: [0.65, 0.7, 0.75, 0.8, 0.85, 0.9], step: 0.05 });
  assert.equal(niceTicks(0.1, 2.7, 6), { values: [0.5, 1, 1.5, 2, 2.5], step: 0.5 });
  assert.equal(niceTicks(-37, 112, 5), { values: [0, 50, 100], step: 50 });
  assert.equal(niceTicks(0, 15300, 6).values, [0, 5000, 10000, 15000]);
  assert.equal(niceTicks(2e-4, 9e-4, 4).values, [2e-4, 4e-4, 6e-4, 8e-4]);
});

s('integer axes never get fractional steps; the count respects maxTicks', () => {
  assert.equal(niceTicks(1, 3, 8, true).values, [1, 2, 3]);
  assert.equal(niceTicks(0, 29, 8, true), { values: [0, 5, 10, 15, 20, 25], step: 5 });
  for (const [lo, hi, n] of [[0, 1, 3], [3, 977, 7], [-5, 5, 4], [0.001, 0.0042, 5]]) {
    const t = niceTicks(lo, hi, n);
    assert.ok(t.values.length <= n && t.values.length >= 2, `${lo}..${hi}: ${t.values}`);
    assert.ok([1, 2, 5].includes(Number((t.step / 10 ** Math.floor(Math.log10(t.step))).toFixed(6))), `step ${t.step}`);
  }
  assert.is(niceStep(5, 5), 1);
});

s('axis labels share decimals and use k/M suffixes or exponents', () => {
  assert.equal(formatTicks([0, 0.25, 0.5, 0.75, 1], 0.25), ['0', '0.25', '0.50', '0.75', '1.00']);
  assert.equal(formatTicks([0, 0.5, 1, 1.5], 0.5), ['0', '0.5', '1.0', '1.5']);
  assert.equal(formatTicks([0, 5000, 10000, 15000], 5000), ['0', '5k', '10k', '15k']);
  assert.equal(formatTicks([0, 2000, 4000], 2000), ['0', '2000', '4000']);
  assert.equal(formatTicks([5e5, 1e6, 1.5e6], 5e5), ['0.5M', '1.0M', '1.5M']);
  assert.equal(formatTicks([0, 1e-3, 2e-3], 1e-3), ['0', '1e-3', '2e-3']);
  assert.equal(formatTicks([-1, 0, 1], 1), ['-1', '0', '1']);
});

s('single values format compactly', () => {
  assert.equal([0.25, 93.44, 12345, 999.96, 1.5e9, 2.5e-4, 1e-3, -0.5, 7].map((v) => formatValue(v)),
    ['0.25', '93.4', '12.3k', '1k', '1.5G', '2.5e-4', '1e-3', '-0.5', '7']);
  assert.is(formatValue(NaN), 'n/a');
});

s('log ticks: decades, then 2s and 5s, then minor multiples', () => {
  const t = logTicks(1, 1000);
  assert.equal(t.major, [1, 10, 100, 1000]);
  assert.equal(t.mid, [2, 5, 20, 50, 200, 500]);
  assert.ok(t.minor.includes(3) && t.minor.includes(900) && !t.minor.includes(2000));
  assert.equal(logTicks(0.001, 0.1).major, [0.001, 0.01, 0.1]);
});

s('scales and padding', () => {
  assert.is(new Scale(0, 10).unit(2.5), 0.25);
  assert.is(new Scale(1, 1000, true).unit(10), 1 / 3);
  assert.throws(() => new Scale(0, 10, true));
  assert.equal(padRange([0, 10], 0.1), [-1, 11]);
  assert.equal(padRange([5, 5]), [4.5, 5.5]);
  assert.equal(padRange([0, 0]), [-1, 1]);
  assert.equal(padRange(null), [0, 1]);
});

s.run();
