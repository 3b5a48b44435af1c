#!/usr/bin/env node
// The package's `celeba-train` command: registers the TypeScript loader, then runs main.ts.
import { register } from 'tsx/esm/api';
register();
const { cli } = await import('./main.ts');
await cli(process.argv.slice(2));
