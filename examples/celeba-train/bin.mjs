#!/usr/bin/env node
// The package's `celeba-train` command: registers the TypeScript loader, then runs main.ts.
import { register } from 'tsx/esm/api';
register();
const { main } = await import('./main.ts');
process.exitCode = await main(process.argv.slice(2));
process.exit();
