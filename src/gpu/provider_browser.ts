import { browserProvider } from './provider.ts';
export const defaultProvider = browserProvider;
