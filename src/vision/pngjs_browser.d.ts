// Types for pngjs's self-contained browser bundle, which exports the same PNG class as 'pngjs'.
declare module 'pngjs/browser.js' {
  import type { PNG } from 'pngjs';
  const bundle: { PNG: typeof PNG };
  export default bundle;
}
