/**
 * The memory budget a plan fits its neural steps into (stages/memory_fit.ts): `--memory`, else
 * this machine's memory, or for an engine that computes on a GPU that GPU's memory, since its
 * activations live there (the host then holds only the images and optimizer vectors, less).
 */

/** Engines whose evaluations run on an NVIDIA GPU (their budget is the GPU's memory). */
const NVIDIA_ENGINES = new Set(["cuda", "cuda-fp32", "cuda-tf32", "tfjs-node-gpu"]);

/** The default budget in bytes for `engine` (resolved, not `auto`). */
export async function defaultMemoryBudget(engine: string): Promise<number> {
  const host = Deno.systemMemoryInfo().total;
  if (!NVIDIA_ENGINES.has(engine)) return host;
  const gpu = await nvidiaMemory();
  return gpu === undefined ? host : Math.min(host, gpu);
}

/** Total memory of the first NVIDIA GPU in bytes (nvidia-smi), or undefined without one. */
async function nvidiaMemory(): Promise<number | undefined> {
  try {
    const { success, stdout } = await new Deno.Command("nvidia-smi", {
      args: ["--query-gpu=memory.total", "--format=csv,noheader,nounits"],
      stdout: "piped",
      stderr: "null",
    }).output();
    const mib = Number(new TextDecoder().decode(stdout).split("\n")[0]);
    return success && mib > 0 ? mib * 1024 ** 2 : undefined;
  } catch {
    return undefined;
  }
}
