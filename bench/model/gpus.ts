// Named GPUs for the roofline model of a training step (`npm run bench -- --model NAME`).
// Peaks and bandwidths are the vendors' datasheet figures (dense, no sparsity); the costs per
// dispatch and per kernel launch are assumptions of this model, not datasheet figures: the
// device kit (bench/device/run.sh) measures the WebGPU one on the card itself.
export interface GpuSpec {
  short: string;
  name: string;
  /** f32 on the ordinary (non-tensor) cores, FLOP/s: the ceiling of WGSL kernels and strict-f32 PyTorch */
  fp32: number;
  /** TF32 on tensor cores, dense, FLOP/s (PyTorch's default for convolutions on NVIDIA); = fp32 where there are none */
  tf32: number;
  /** DRAM bandwidth, bytes/s */
  bandwidth: number;
  /** fixed cost of one compute dispatch and the barrier after it, through WebGPU (assumed) */
  dispatchUs: number;
  /** fixed cost of one kernel launch in PyTorch eager mode, host-bound (assumed) */
  launchUs: number;
  source: string;
}

const T = 1e12;

export const GPUS: Record<string, GpuSpec> = {
  H200: {
    short: 'H200', name: 'NVIDIA H200 SXM (141 GB HBM3e)', fp32: 67 * T, tf32: 494.5 * T, bandwidth: 4.8e12, dispatchUs: 3, launchUs: 5,
    source: 'NVIDIA H200 Tensor Core GPU datasheet: FP32 67 TFLOPS, TF32 Tensor Core 989 TFLOPS with sparsity (494.5 dense), 4.8 TB/s',
  },
  A100: {
    short: 'A100', name: 'NVIDIA A100 SXM 80 GB', fp32: 19.5 * T, tf32: 156 * T, bandwidth: 2.039e12, dispatchUs: 3, launchUs: 5,
    source: 'NVIDIA A100 Tensor Core GPU datasheet: FP32 19.5 TFLOPS, TF32 Tensor Core 156 TFLOPS (312 with sparsity), 2,039 GB/s (80 GB SXM)',
  },
  'RTX 4090': {
    short: 'RTX 4090', name: 'NVIDIA GeForce RTX 4090', fp32: 82.6 * T, tf32: 82.6 * T, bandwidth: 1.008e12, dispatchUs: 3, launchUs: 5,
    source: 'NVIDIA Ada Lovelace GPU Architecture whitepaper, appendix A: peak FP32 82.6 TFLOPS, peak TF32 Tensor 82.6 TFLOPS (165.2 with sparsity), 1,008 GB/s',
  },
  M2: {
    short: 'M2', name: 'Apple M2 (10-core GPU)', fp32: 3.6 * T, tf32: 3.6 * T, bandwidth: 100e9, dispatchUs: 5, launchUs: 10,
    source: 'Apple newsroom, "Apple unveils M2" (June 2022): 3.6 TFLOPS GPU, 100 GB/s unified memory bandwidth; no TF32 tensor cores',
  },
};

/** The spec named `name` (case and spaces ignored), or an error listing the known ones. */
export function gpuSpec(name: string): GpuSpec {
  const norm = (s: string) => s.toLowerCase().replace(/[\s_-]/g, '');
  const key = Object.keys(GPUS).find((k) => norm(k) === norm(name));
  if (!key) throw new Error(`--model: no GPU named "${name}" (have ${Object.keys(GPUS).join(', ')}; bench/model/gpus.ts)`);
  return GPUS[key];
}
