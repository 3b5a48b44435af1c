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
}

const SOFTWARE = /software|llvmpipe|lavapipe|swiftshader|warp|microsoft basic render/i;

export function describeAdapter(info: Partial<Record<'vendor' | 'architecture' | 'device' | 'description', string>> | undefined,
  backend: string, limits: GPUSupportedLimits, features: ReadonlySet<string>): AdapterDescription {
  const vendor = info?.vendor ?? '', architecture = info?.architecture ?? '', device = info?.device ?? '';
  const description = info?.description ?? '';
  const software = SOFTWARE.test(`${vendor} ${architecture} ${device} ${description}`);
  return { vendor, architecture, device, description, backend, software, limits, features };
}
