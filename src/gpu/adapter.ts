// The one description of the adapter every kernel family's supports() and default rule read,
// made once when the device is acquired.
export interface AdapterDescription {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** 'dawn' (Node) or 'browser' */
  backend: string;
  /**
   * A CPU implementation (lavapipe/llvmpipe, SwiftShader, WARP): storage-buffer loads and
   * workgroup barriers are slow there, texel fetches fast, so families pick other versions.
   */
  software: boolean;
  limits: GPUSupportedLimits;
  features: ReadonlySet<string>;
  /** Invocations per subgroup, smallest and largest the adapter uses (0 where it does not say). */
  subgroupMinSize: number;
  subgroupMaxSize: number;
  /** The WGSL language features the implementation has (navigator.gpu.wgslLanguageFeatures). */
  wgslFeatures: ReadonlySet<string>;
}

const SOFTWARE = /software|llvmpipe|lavapipe|swiftshader|warp|microsoft basic render/i;

export function describeAdapter(info: (Partial<Record<'vendor' | 'architecture' | 'device' | 'description', string>>
  & Partial<Record<'subgroupMinSize' | 'subgroupMaxSize', number>>) | undefined,
  backend: string, limits: GPUSupportedLimits, features: ReadonlySet<string>, wgslFeatures: ReadonlySet<string> = new Set()): AdapterDescription {
  const vendor = info?.vendor ?? '', architecture = info?.architecture ?? '', device = info?.device ?? '';
  const description = info?.description ?? '';
  const software = SOFTWARE.test(`${vendor} ${architecture} ${device} ${description}`);
  return { vendor, architecture, device, description, backend, software, limits, features,
    subgroupMinSize: info?.subgroupMinSize ?? 0, subgroupMaxSize: info?.subgroupMaxSize ?? 0, wgslFeatures };
}
