#!/usr/bin/env bash
# The one command to run on a GPU machine (x86-64 Linux, no Node needed, no network), from the
# checkout with the kit that `npm run device-kit` wrote beside it (device-kit/, git-ignored):
#
#   bash bench/device/run.sh            # full run, meant to stay under 8 minutes on a data-centre GPU
#   bash bench/device/run.sh --quick    # the same path at toy sizes (KIT_QUICK=1 does the same);
#                                       # the kit's test runs it on a CPU adapter
#
# It unpacks Node, Dawn and the benchmark into KIT_WORK (default /tmp/resnest-device-kit); uses
# the machine's Vulkan loader, or the kit's (unpacked there, never into /) when the machine has
# none or KIT_FORCE_LOADER=1; points the loader at NVIDIA's container ICD when no other is
# installed; prints the adapter, its limits and features, its measured FMA peak, copy bandwidth
# and dispatch cost; autotunes; times every convolution pass at ResNeSt-50's shapes, the
# bottleneck block and the training step at 224 and 320 px, batch 32; then runs the PyTorch
# CUDA peer (bench/device/torch_peer.py: strict f32, TF32, channels-last, AMP) when python3 has
# torch with CUDA and timm, and skips it otherwise. One JSON file comes out:
# $OUT/device-results.json (OUT defaults to device-results/ in the checkout). Back home:
#   npm run bench -- --from device-results.json --write-docs
# Exit status: 0 when every case ran and validated, else 1 (the JSON is written either way).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
kit=${KIT_DIR:-$repo/device-kit}
work=${KIT_WORK:-/tmp/resnest-device-kit}
out=${OUT:-$repo/device-results}
quick=${KIT_QUICK:-0}
for arg in "$@"; do
  case $arg in
    --quick) quick=1 ;;
    *) echo "run.sh: unknown argument $arg (only --quick)" >&2; exit 2 ;;
  esac
done
if [[ ! -f $kit/manifest.json ]]; then
  echo "run.sh: no complete kit at $kit: run 'npm run device-kit' on a machine with Node first" >&2
  exit 2
fi
if [[ $(uname -sm) != "Linux x86_64" ]]; then echo "run.sh: the kit is for x86-64 Linux, this is $(uname -sm)" >&2; exit 2; fi

unxz_to() { # xz-utils when present, else Python's lzma
  if command -v xz >/dev/null 2>&1; then xz -dc "$1" >"$2"
  else python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' "$1" "$2"; fi
}
unpack_deb() { # dpkg-deb when present, else Python (ar archive holding data.tar.*)
  if command -v dpkg-deb >/dev/null 2>&1; then dpkg-deb -x "$1" "$2"; return; fi
  python3 - "$1" "$2" <<'PY'
import io, sys, tarfile
data, i = open(sys.argv[1], 'rb').read(), 8
assert data[:8] == b'!<arch>\n', f'{sys.argv[1]} is not a .deb'
while i < len(data):
    name, size = data[i:i + 16].decode().strip().rstrip('/'), int(data[i + 48:i + 58])
    if name.startswith('data.tar'):
        tarfile.open(fileobj=io.BytesIO(data[i + 60:i + 60 + size])).extractall(sys.argv[2])
    i += 60 + size + (size & 1)
PY
}

t0=$(date +%s)
rm -rf "$work"
mkdir -p "$work/node_modules/webgpu/dist/linux-x64" "$out"
unxz_to "$kit/node.xz" "$work/node"
chmod +x "$work/node"
unxz_to "$kit/dawn.node.xz" "$work/node_modules/webgpu/dist/linux-x64/dawn.node"
cp "$kit/webgpu/index.js" "$kit/webgpu/package.json" "$work/node_modules/webgpu/"
cp "$kit/bench.mjs" "$work/"
echo "kit: $(grep -m1 '"revision"' "$kit/manifest.json" | tr -d ' ,'); node $("$work/node" --version); unpacked in $(( $(date +%s) - t0 )) s"

if [[ ${KIT_FORCE_LOADER:-0} == 1 ]] || ! ldconfig -p 2>/dev/null | grep -q 'libvulkan\.so\.1'; then
  for deb in "$kit"/debs/*.deb; do unpack_deb "$deb" "$work/sysroot"; done
  export LD_LIBRARY_PATH="$work/sysroot/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  echo "vulkan loader: the kit's ($(ls "$work/sysroot/usr/lib/x86_64-linux-gnu" | grep -m1 'libvulkan\.so\.1\.'))"
else
  echo "vulkan loader: the machine's"
fi
nvidia_icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
if [[ -f $nvidia_icd && -z ${VK_DRIVER_FILES:-}${VK_ICD_FILENAMES:-} ]] && ! ls /usr/share/vulkan/icd.d/nvidia* /etc/vulkan/icd.d/nvidia* >/dev/null 2>&1; then
  export VK_DRIVER_FILES=$nvidia_icd VK_ICD_FILENAMES=$nvidia_icd
  echo "vulkan driver: $nvidia_icd"
fi
if [[ -d /usr/local/nvidia/lib64 ]]; then export LD_LIBRARY_PATH="${LD_LIBRARY_PATH:+$LD_LIBRARY_PATH:}/usr/local/nvidia/lib64"; fi
command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true

quick_flag=()
peer_spec='{"sizes": [224, 320], "batch": 32, "steps": 10, "warmup": 3}'
if [[ $quick == 1 ]]; then quick_flag=(--quick); peer_spec='{"sizes": [64], "batch": 2, "steps": 2, "warmup": 1, "modes": ["f32"]}'; fi

status=0
"$work/node" "$work/bench.mjs" ${quick_flag[@]+"${quick_flag[@]}"} --autotune-file "$work/autotune.json" --out "$work/webgpu.json" || status=$?
if command -v python3 >/dev/null 2>&1; then
  python3 "$here/torch_peer.py" "$peer_spec" >"$work/torch.json" || { echo "run.sh: the PyTorch peer failed" >&2; status=1; }
else
  echo '{"skipped": "no python3"}' >"$work/torch.json"
fi
if [[ -f $work/webgpu.json ]]; then
  "$work/node" "$work/bench.mjs" --combine "$work/webgpu.json" "$work/torch.json" --out "$out/device-results.json" || status=1
else
  echo "run.sh: the WebGPU benchmark wrote no report" >&2
  status=1
fi
echo "run.sh: done in $(( $(date +%s) - t0 )) s, exit status $status"
exit $status
