// Browser-safe data API: no Node built-ins are reachable from here. Node-only parts are in node.ts.
export * from './prng.ts';
export * from './image.ts';
export * from './decode.ts';
export * from './transforms.ts';
export * from './color.ts';
export * from './augment.ts';
