// Prepended to every shader family (kernels/wgsl.ts): the thread-index preamble every
// one-dimensional kernel starts with. Grids larger than 65535 workgroups in x are folded into
// y by the host (kernels/launch.ts grid1d); flat_workgroup undoes the fold, and
// thread_index(...) is the invocation's index over the whole grid; each entry then returns
// when it is past its count (`if (t >= count) { return; }`).
fn flat_workgroup(wid: vec3u, nwg: vec3u) -> u32 {
  return wid.x + wid.y * nwg.x;
}

fn thread_index(wid: vec3u, nwg: vec3u, lid: u32, wg: u32) -> u32 {
  return flat_workgroup(wid, nwg) * wg + lid;
}

fn ceil_div(a: u32, b: u32) -> u32 {
  return (a + b - 1u) / b;
}
