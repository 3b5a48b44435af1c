// Entry of every data worker thread. A worker started from TypeScript does not reliably get tsx's
// hooks from the parent's --import, so it registers them itself, then loads the real module
// (workerData.entry, a file URL of a .ts file).
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);
