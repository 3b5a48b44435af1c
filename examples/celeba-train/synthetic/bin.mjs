#!/usr/bin/env node
// Entry of the make-synthetic-celeba command: plain Node cannot load TypeScript, so register tsx first.
import { register } from 'tsx/esm/api';

register();
await import('./cli.ts');
