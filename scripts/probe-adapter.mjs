// Exits 0 when Dawn finds a WebGPU adapter; prints what it found.
import { create, globals } from 'webgpu';
Object.assign(globalThis, globals);
const gpu = create([]);
const adapter = await gpu.requestAdapter();
if (!adapter) { console.error('no WebGPU adapter'); process.exit(1); }
const info = adapter.info ?? {};
console.log(`adapter: ${info.vendor || '?'} ${info.architecture || ''} ${info.description || ''}`.trim());
process.exit(0);
