/**
 * Where the cuda engine finds its shared libraries: libcudart, libcublas (+ libcublasLt), libnvrtc
 * and libcudnn (9.x), for CUDA 13 or 12, and the driver's libcuda.so.1. Folders are searched in
 * this order: `STYLEPIPE_CUDA_LIBS` (a `:`-separated list), `LD_LIBRARY_PATH`, /usr/local/cuda*\/lib64
 * (newest first), the driver's and the distribution's library folders, then the `nvidia/*\/lib`
 * folders of Python environments (pip wheels nvidia-cudnn-cu12/-cu13, nvidia-cublas, …).
 * Discovery only looks at file names; whether the libraries load and a GPU answers is the engine's
 * business (cuda/engine.ts).
 */

/** One CUDA major version's sonames (what `dlopen` needs), preferred first. */
const CUDA_MAJORS = [13, 12] as const;

/** A CUDA major version the engine can use. */
export type CudaMajor = typeof CUDA_MAJORS[number];

/** Paths of the libraries the engine opens, plus those it preloads so that theirs resolve. */
export interface CudaLibraries {
  readonly major: CudaMajor;
  readonly cudart: string;
  readonly cublas: string;
  readonly cublasLt: string;
  readonly nvrtc: string;
  readonly cudnn: string;
  /** The driver library: a path, or the bare soname `libcuda.so.1` for the dynamic linker. */
  readonly driver: string;
  /**
   * Libraries opened first, by path, so that what the above load by soname resolves without
   * LD_LIBRARY_PATH: libcublasLt, cuDNN's sub-libraries, NVRTC's builtins.
   */
  readonly preload: readonly string[];
  /** The folders searched, in order (for provenance and errors). */
  readonly searched: readonly string[];
}

/** Where to look: the environment and the fixed roots (tests pass temporary folders). */
export interface CudaSearch {
  /** Environment variables (STYLEPIPE_CUDA_LIBS, LD_LIBRARY_PATH, VIRTUAL_ENV, CONDA_PREFIX, HOME). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Folders after the environment's; default {@link systemLibraryFolders}. */
  readonly systemFolders?: readonly string[];
  /** Python environments' roots (folders holding lib/python3*\/site-packages); default {@link pythonRoots}. */
  readonly pythonRoots?: readonly string[];
}

/** The pip and apt commands that install what the engine needs (named in every error). */
export const CUDA_INSTALL_HINT =
  "install the CUDA 13 libraries with `pip install nvidia-cuda-runtime nvidia-cublas " +
  "nvidia-cuda-nvrtc nvidia-cudnn-cu13` (or CUDA 12: `pip install nvidia-cuda-runtime-cu12 " +
  "nvidia-cublas-cu12 nvidia-cuda-nvrtc-cu12 nvidia-cudnn-cu12`), or the CUDA toolkit and cuDNN 9 " +
  "from NVIDIA's apt repository (`apt-get install cuda-libraries-13-0 libcudnn9-cuda-13`); then " +
  "point STYLEPIPE_CUDA_LIBS at the folders if they are elsewhere";

/** /usr/local/cuda*\/lib64 (the `cuda` link first, then versions newest first) and the system's folders. */
export function systemLibraryFolders(): string[] {
  const cudas = listDir("/usr/local")
    .filter((name) => /^cuda(-\d+(\.\d+)?)?$/.test(name))
    .sort((a, b) => versionOf(b) - versionOf(a))
    .map((name) => `/usr/local/${name}/lib64`);
  return [
    ...cudas,
    "/usr/local/nvidia/lib64",
    "/usr/local/nvidia/lib",
    "/usr/lib/x86_64-linux-gnu",
    "/usr/lib/wsl/lib",
  ];
}

/** Python environments that may hold NVIDIA's pip wheels (the GPU machine's torch venv first). */
export function pythonRoots(env: Readonly<Record<string, string | undefined>>): string[] {
  const roots = [
    "/opt/torch/.venv",
    env.VIRTUAL_ENV,
    env.CONDA_PREFIX,
    env.HOME ? `${env.HOME}/.local` : undefined,
    "/usr/local",
    "/usr",
    "/opt/conda",
    ...listDir("/opt").map((name) => `/opt/${name}/.venv`),
  ];
  return [...new Set(roots.filter((r): r is string => !!r))];
}

/** Every folder searched, in order, existing ones only, each once. */
export function searchFolders(search: CudaSearch): string[] {
  const { env } = search;
  const split = (v: string | undefined) => (v ?? "").split(":").filter((p) => p !== "");
  const pythonLibs = (search.pythonRoots ?? pythonRoots(env)).flatMap((root) =>
    sitePackages(root).flatMap((site) =>
      listDir(`${site}/nvidia`).sort().map((pkg) => `${site}/nvidia/${pkg}/lib`)
    )
  );
  const all = [
    ...split(env.STYLEPIPE_CUDA_LIBS),
    ...split(env.LD_LIBRARY_PATH),
    ...(search.systemFolders ?? systemLibraryFolders()),
    ...pythonLibs,
  ];
  return [...new Set(all)].filter(isDir);
}

/** The libraries to open, or what is missing (each with the sonames looked for). */
export type CudaDiscovery =
  | { readonly found: true; readonly libraries: CudaLibraries }
  | {
    readonly found: false;
    readonly missing: readonly string[];
    readonly searched: readonly string[];
  };

/**
 * Finds one consistent set (all of cudart, cuBLAS, cuBLASLt, NVRTC of the same CUDA major, 13
 * preferred) plus cuDNN 9, each from the first folder that holds it.
 */
export function discoverCudaLibraries(search: CudaSearch): CudaDiscovery {
  const searched = searchFolders(search);
  const listing = new Map(searched.map((f) => [f, new Set(listDir(f))]));
  const find = (soname: string) => {
    const folder = searched.find((f) => listing.get(f)!.has(soname));
    return folder === undefined ? undefined : `${folder}/${soname}`;
  };
  const cudnn = find("libcudnn.so.9");
  const driver = find("libcuda.so.1") ?? "libcuda.so.1";
  let bestMissing: string[] | undefined;
  for (const major of CUDA_MAJORS) {
    const names = {
      cudart: `libcudart.so.${major}`,
      cublas: `libcublas.so.${major}`,
      cublasLt: `libcublasLt.so.${major}`,
      nvrtc: `libnvrtc.so.${major}`,
    };
    const paths = Object.fromEntries(
      Object.entries(names).map(([k, soname]) => [k, find(soname)]),
    ) as Record<keyof typeof names, string | undefined>;
    const missing = Object.entries(paths).filter(([, p]) => !p).map(([k]) =>
      names[k as keyof typeof names]
    );
    if (!cudnn) missing.push("libcudnn.so.9");
    if (missing.length === 0) {
      const siblings = (path: string, pattern: RegExp) => {
        const folder = path.slice(0, path.lastIndexOf("/"));
        return [...listing.get(folder) ?? []].filter((n) => pattern.test(n)).sort()
          .map((n) => `${folder}/${n}`);
      };
      const preload = [
        paths.cublasLt!,
        ...siblings(paths.nvrtc!, new RegExp(`^libnvrtc-builtins\\.so\\.${major}(\\.\\d+)*$`)),
        ...siblings(cudnn!, /^libcudnn_[a-z_]+\.so\.9$/).sort((a, b) =>
          cudnnRank(a) - cudnnRank(b)
        ),
      ];
      return {
        found: true,
        libraries: {
          major,
          cudart: paths.cudart!,
          cublas: paths.cublas!,
          cublasLt: paths.cublasLt!,
          nvrtc: paths.nvrtc!,
          cudnn: cudnn!,
          driver,
          preload,
          searched,
        },
      };
    }
    if (!bestMissing || missing.length < bestMissing.length) {
      bestMissing = missing.map((m) => m);
    }
  }
  return { found: false, missing: bestMissing!, searched };
}

/** The error message for a failed discovery: what is missing, where it looked, how to install. */
export function missingLibrariesMessage(
  missing: readonly string[],
  searched: readonly string[],
): string {
  const where = searched.length === 0 ? "no library folder exists" : searched.join(", ");
  return `engine cuda needs ${missing.join(", ")} (CUDA 13 or 12 and cuDNN 9), not found; ` +
    `searched: ${where}; ${CUDA_INSTALL_HINT}`;
}

/** cuDNN's sub-libraries in dependency order (graph, then ops, then the rest). */
function cudnnRank(path: string): number {
  const order = ["graph", "ops", "cnn", "adv", "engines_precompiled"];
  const name = /libcudnn_([a-z_]+)\.so/.exec(path)?.[1] ?? "";
  const rank = order.indexOf(name);
  return rank < 0 ? order.length : rank;
}

function sitePackages(root: string): string[] {
  return listDir(`${root}/lib`)
    .filter((name) => /^python3(\.\d+)?$/.test(name))
    .flatMap((py) => [`${root}/lib/${py}/site-packages`, `${root}/lib/${py}/dist-packages`])
    .filter(isDir);
}

function versionOf(name: string): number {
  const m = /-(\d+)(?:\.(\d+))?$/.exec(name);
  return m ? Number(m[1]) * 1000 + Number(m[2] ?? 0) : Number.POSITIVE_INFINITY; // `cuda` first
}

function listDir(path: string): string[] {
  try {
    return [...Deno.readDirSync(path)].map((e) => e.name);
  } catch {
    return [];
  }
}

function isDir(path: string): boolean {
  try {
    return Deno.statSync(path).isDirectory;
  } catch {
    return false;
  }
}
