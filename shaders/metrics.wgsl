// Metrics family: per-attribute confusion counts accumulated on the device across batches,
// read back once per evaluation.
// Prediction: logit > 0 (sigmoid > 0.5, strictly; a NaN logit predicts negative).
// Target: > 0.5 is positive. counts (u32, 4 blocks of A):
//   [0, A) correct   [A, 2A) predicted positive   [2A, 3A) target positive   [3A, 4A) true positive
//   metrics_attribute_update   invocation a walks the rows of column a and adds its counts: no
//                              atomics, and neighbouring invocations read neighbouring values
// Versions: v1 only (an evaluation batch is [256, 40]; the cost is the dispatch).
override WG: u32 = 64;

struct Params { rows: u32, A: u32, _a: u32, _b: u32 }

@group(0) @binding(0) var<storage, read> logits: array<f32>;
@group(0) @binding(1) var<storage, read> targets: array<f32>;
@group(0) @binding(2) var<storage, read_write> counts: array<u32>;
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn metrics_attribute_update(@builtin(global_invocation_id) gid: vec3u) {
  let a = gid.x;
  let A = p.A;
  if (a >= A) { return; }
  var correct = 0u;
  var predicted = 0u;
  var positive = 0u;
  var both = 0u;
  for (var r = 0u; r < p.rows; r++) {
    let i = r * A + a;
    let pred = u32(logits[i] > 0.0);
    let truth = u32(targets[i] > 0.5);
    correct += u32(pred == truth);
    predicted += pred;
    positive += truth;
    both += pred & truth;
  }
  counts[a] += correct;
  counts[A + a] += predicted;
  counts[2u * A + a] += positive;
  counts[3u * A + a] += both;
}
