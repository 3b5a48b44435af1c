// Where autotune's choices persist, per adapter (a file under Node, localStorage in a browser).
export interface AutotuneStore {
  load(adapter: string): Record<string, string>;
  save(adapter: string, entries: Record<string, string>): void;
}
