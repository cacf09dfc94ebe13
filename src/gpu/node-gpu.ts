/**
 * WebGPU in Node through Dawn (npm `webgpu`), for the CLI, the benchmark and the tests.
 * A hardware adapter is used when the Vulkan loader finds one; otherwise SwiftShader, the
 * software Vulkan driver Debian's chromium package ships; otherwise a clear error.
 */
import { existsSync } from 'node:fs';
import { EngineError } from '../errors';

const SWIFTSHADER_ICDS = ['/usr/lib/chromium/vk_swiftshader_icd.json', '/usr/lib64/chromium/vk_swiftshader_icd.json'];

// Dawn hides shader-f16 on NVIDIA's Vulkan driver unless asked (Dawn's Toggles.cpp), and its
// experimental features (chromium-experimental-subgroup-matrix, the matrix units) unless unsafe
// APIs are allowed, as Chrome's --enable-unsafe-webgpu does.
// Timestamps unquantised: the benchmark measures microsecond kernels (Node only; browsers quantise).
const DAWN_FLAGS = ['enable-dawn-features=vulkan_enable_f16_on_nvidia,allow_unsafe_apis', 'disable-dawn-features=timestamp_quantization'];

let gpuHandle: GPU | undefined;

export async function requestNodeAdapter(options: { allowSoftware?: boolean } = {}): Promise<GPUAdapter> {
  const allowSoftware = options.allowSoftware ?? true;
  let webgpu: typeof import('webgpu');
  try {
    webgpu = await import('webgpu');
  } catch (error) {
    throw new EngineError('webgpu-unavailable', 'The npm package `webgpu` (Dawn for Node) is missing: run `npm install`.', undefined, {
      cause: error,
    });
  }
  Object.assign(globalThis, webgpu.globals);
  process.env.XDG_RUNTIME_DIR ??= '/tmp';

  const explicitDriver = process.env.VK_ICD_FILENAMES ?? process.env.VK_DRIVER_FILES;
  gpuHandle = webgpu.create(DAWN_FLAGS);
  const hardware = await gpuHandle.requestAdapter({ powerPreference: 'high-performance' });
  if (hardware) return hardware;
  const icd = SWIFTSHADER_ICDS.find((path) => existsSync(path));
  if (allowSoftware && icd && !explicitDriver) {
    // The Vulkan loader reads this when Dawn creates its next instance.
    process.env.VK_ICD_FILENAMES = icd;
    gpuHandle = webgpu.create(DAWN_FLAGS);
    const adapter = await gpuHandle.requestAdapter();
    if (adapter) return adapter;
  }
  throw new EngineError(
    'webgpu-unavailable',
    'No WebGPU adapter: no GPU with a Vulkan driver was found, and no SwiftShader fallback. ' +
      'On Debian/Ubuntu run `apt-get install -y libvulkan1 chromium` (Chromium ships SwiftShader, a software Vulkan driver).',
  );
}

/** Drops Dawn's instance so the process can exit (Dawn keeps Node alive while it is referenced). */
export function releaseNodeGpu(): void {
  gpuHandle = undefined;
}
