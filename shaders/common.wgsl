// Prepended to every shader family (kernels/wgsl.ts). Grids larger than 65535 workgroups
// in x are folded into y by the host (kernels/launch.ts grid1d); this undoes the fold.
fn flat_workgroup(wid: vec3u, nwg: vec3u) -> u32 {
  return wid.x + wid.y * nwg.x;
}

fn ceil_div(a: u32, b: u32) -> u32 {
  return (a + b - 1u) / b;
}
