// Entry of the browser bundle: everything of the library that does not need Node.
export * from './index.ts';
export * as vision from './vision/index.ts';
