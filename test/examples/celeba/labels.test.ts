import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { positiveRates, splitIndices } from '../../../src/vision/index.ts';
import { CELEBA_ATTRIBUTES, CelebAFormatError, formatAttributeList, formatPartitionList, parseAttributeList, parseCelebALabels, parsePartitionList } from '../../../examples/celeba-train/celeba/index.ts';

const s = suite('celeba: CelebA label files');

// The first two image lines of the official list_attr_celeba.txt, byte for byte.
const OFFICIAL_HEAD = '202599\n' + CELEBA_ATTRIBUTES.join(' ') + ' \n' +
  '000001.jpg -1  1  1 -1 -1 -1 -1 -1 -1 -1 -1  1 -1 -1 -1 -1 -1 -1  1  1 -1  1 -1 -1  1 -1 -1  1 -1 -1 -1  1  1 -1  1 -1  1 -1 -1  1\n' +
  '000002.jpg -1 -1 -1  1 -1 -1 -1  1 -1 -1 -1  1 -1 -1 -1 -1 -1 -1 -1  1 -1  1 -1 -1  1 -1 -1 -1 -1 -1 -1  1 -1 -1 -1 -1 -1 -1 -1  1\n';

function attrText(rows: number[][], count = rows.length): string {
  const files = rows.map((_, i) => `${String(i + 1).padStart(6, '0')}.jpg`);
  return formatAttributeList(CELEBA_ATTRIBUTES, files, Uint8Array.from(rows.flat())).replace(/^\d+/, String(count));
}

const row = (...on: number[]): number[] => CELEBA_ATTRIBUTES.map((_, j) => (on.includes(j) ? 1 : 0));

function throwsAt(fn: () => unknown, file: string, line: number, pattern: RegExp): void {
  try {
    fn();
  } catch (err) {
    assert.instance(err, CelebAFormatError);
    const e = err as CelebAFormatError;
    assert.is(e.file, file);
    assert.is(e.line, line);
    assert.match(e.message, `${file}:${line}: `);
    assert.match(e.message, pattern);
    return;
  }
  assert.unreachable(`expected ${file}:${line} to be reported`);
}

s('formatting reproduces the official bytes, and parsing reads them back', () => {
  const parsed = parseAttributeList(OFFICIAL_HEAD.replace('202599', '2'));
  assert.equal(parsed.attributes, [...CELEBA_ATTRIBUTES]);
  assert.equal(parsed.files, ['000001.jpg', '000002.jpg']);
  assert.equal(Array.from(parsed.labels.subarray(0, 4)), [0, 1, 1, 0]);
  const again = formatAttributeList(parsed.attributes, parsed.files, parsed.labels);
  assert.is(again, OFFICIAL_HEAD.replace('202599', '2'));
});

s('CRLF line endings, missing trailing space and trailing blank lines are accepted', () => {
  const text = OFFICIAL_HEAD.replace('202599', '2').replace(/ \n/, '\n').replace(/\n/g, '\r\n') + '\r\n\r\n';
  assert.is(parseAttributeList(text).files.length, 2);
  assert.equal(parsePartitionList('000001.jpg 0\r\n000002.jpg 2\r\n').splits, Uint8Array.from([0, 2]));
});

s('bad attribute lines are reported with file and line number', () => {
  const good = attrText([row(1), row(2), row(3)]);
  const lines = good.split('\n');
  const short = [...lines.slice(0, 3), lines[3].replace(/ +-?1$/, ''), ...lines.slice(4)].join('\n');
  throwsAt(() => parseAttributeList(short), 'list_attr_celeba.txt', 4, /000002\.jpg: expected 40 values, found 39/);
  const badValue = [...lines.slice(0, 4), lines[4].replace(/ -1$/, '  0'), ...lines.slice(5)].join('\n');
  throwsAt(() => parseAttributeList(badValue), 'list_attr_celeba.txt', 5, /value "0" for Young is not 1 or -1/);
  throwsAt(() => parseAttributeList(attrText([row(1), row(2)], 3)), 'list_attr_celeba.txt', 1, /count line says 3 images but 2/);
  throwsAt(() => parseAttributeList('abc\n'), 'list_attr_celeba.txt', 1, /expected the image count/);
  const dup = [...lines.slice(0, 4), lines[3], ...lines.slice(4)].join('\n').replace(/^3/, '4');
  throwsAt(() => parseAttributeList(dup), 'list_attr_celeba.txt', 5, /listed twice/);
});

s('lenient mode leaves bad lines out and records them', () => {
  const lines = attrText([row(1), row(2), row(3)]).split('\n');
  lines[4] = lines[4].replace(/ -1$/, ' 2');
  const parsed = parseAttributeList(lines.join('\n'), { lenient: true });
  assert.equal(parsed.files, ['000001.jpg', '000002.jpg']);
  assert.equal(parsed.problems.map((p) => p.line), [5]);
});

s('partition file: bad split values, unknown images and unsplit images', () => {
  throwsAt(() => parsePartitionList('000001.jpg 0\n000002.jpg 3\n'), 'list_eval_partition.txt', 2, /split "3" is not 0, 1 or 2/);
  throwsAt(() => parsePartitionList('000001.jpg 0 1\n'), 'list_eval_partition.txt', 1, /found 3 fields/);
  const attrs = attrText([row(1), row(2)]);
  throwsAt(() => parseCelebALabels(attrs, '000001.jpg 0\n000002.jpg 1\n000009.jpg 2\n'),
    'list_eval_partition.txt', 3, /unknown image 000009\.jpg/);
  throwsAt(() => parseCelebALabels(attrs, '000001.jpg 0\n'), 'list_attr_celeba.txt', 4, /000002\.jpg has no split/);
  const lenient = parseCelebALabels(attrs, '000001.jpg 0\n000009.jpg 2\n', { lenient: true });
  assert.equal(lenient.files, ['000001.jpg']);
  assert.is(lenient.problems.length, 2);
});

s('splits and per-split positive rates', () => {
  const attrs = attrText([row(0, 4), row(0), row(4), row(), row(0, 39)]);
  const labels = parseCelebALabels(attrs, formatPartitionList(
    ['000001.jpg', '000002.jpg', '000003.jpg', '000004.jpg', '000005.jpg'], Uint8Array.from([0, 0, 0, 1, 2])));
  assert.equal(Array.from(splitIndices(labels, 'train')), [0, 1, 2]);
  assert.equal(Array.from(splitIndices(labels, 'test')), [4]);
  assert.equal(Array.from(splitIndices(labels, 'all')), [0, 1, 2, 3, 4]);
  const train = positiveRates(labels, 'train');
  assert.ok(Math.abs(train[0] - 2 / 3) < 1e-12 && Math.abs(train[4] - 2 / 3) < 1e-12 && train[39] === 0);
  assert.is(positiveRates(labels, 'test')[39], 1);
  assert.is(positiveRates(labels, 'val')[0], 0);
  assert.ok(Math.abs(positiveRates(labels, 'all')[0] - 0.6) < 1e-12);
});

s.run();
