/**
 * ONNX Runtime (onnxruntime-node, CPU execution provider): loading the package, session options
 * (intra-op threads from STYLEPIPE_ONNX_THREADS, default 2) and a small cache of built sessions.
 */
import type * as Ort from "npm:onnxruntime-node@1.30.0";
import { EngineUnavailableError } from "../engine.ts";
import { returnLargeBuffersOnFree, trimNativeHeap } from "./native_memory.ts";
import { messageOf } from "../../../util/errors.ts";

/** The onnxruntime-node module namespace. */
export type OrtModule = typeof Ort;
/** An ONNX Runtime inference session. */
export type OrtSession = Ort.InferenceSession;

/** Environment variable that sets the intra-op thread count of the onnx engine. */
export const THREADS_ENV = "STYLEPIPE_ONNX_THREADS";
/** Intra-op threads used when {@link THREADS_ENV} is unset (this project's machines have 2 cores). */
export const DEFAULT_THREADS = 2;

let ortPromise: Promise<OrtModule> | undefined;

/** Loads onnxruntime-node once; throws {@link EngineUnavailableError} saying how to install it. */
export function loadOrt(): Promise<OrtModule> {
  ortPromise ??= import("npm:onnxruntime-node@1.30.0").then((ort) => {
    returnLargeBuffersOnFree();
    return ort;
  }).catch((e: unknown) => {
    ortPromise = undefined;
    throw new EngineUnavailableError(
      "onnx",
      `onnxruntime-node could not be loaded (${messageOf(e)}); install it ` +
        "with `ONNXRUNTIME_NODE_INSTALL=skip deno install` and run with --allow-ffi (or -A)",
    );
  });
  return ortPromise;
}

/** Intra-op thread count: {@link THREADS_ENV} when it is a positive integer, else 2. */
export function intraOpThreads(): number {
  let raw: string | undefined;
  try {
    raw = Deno.env.get(THREADS_ENV);
  } catch {
    raw = undefined; // no --allow-env: use the default
  }
  if (raw === undefined || raw === "") return DEFAULT_THREADS;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) {
    throw new EngineUnavailableError(
      "onnx",
      `${THREADS_ENV} must be a positive integer, got "${raw}"`,
    );
  }
  return n;
}

/**
 * Creates a CPU session for a serialized model. `reuseMemory` keeps ONNX Runtime's CPU arena
 * between runs (repeated runs of the loss graph reuse their buffers); without it a session holds
 * only its weights between runs (forward-only graphs run once per image). The memory pattern
 * stays off: with the arena it allocates a second block of the run's peak size on the second run
 * (measured: 512² VGG19 loss graph, 1.3 GB → 1.8 GB resident).
 */
export async function createSession(model: Uint8Array, reuseMemory: boolean): Promise<OrtSession> {
  const ort = await loadOrt();
  const session = await ort.InferenceSession.create(model, {
    executionProviders: ["cpu"],
    graphOptimizationLevel: "all",
    executionMode: "sequential",
    intraOpNumThreads: intraOpThreads(),
    interOpNumThreads: 1,
    enableCpuMemArena: reuseMemory,
    enableMemPattern: false,
  });
  trimNativeHeap(); // the build's copies of the weights are freed now
  return session;
}

/** A session lent by {@link SessionCache}; `release()` returns it (it stays cached). */
export interface SessionLease {
  readonly session: OrtSession;
  release(): void;
}

interface CacheEntry {
  readonly session: Promise<OrtSession>;
  users: number;
}

/**
 * Built sessions by key (weights id, layers, pooling, size). Beyond `capacity`, the least recently
 * used sessions that nobody holds are released (a VGG19 session at 512² holds hundreds of MB).
 */
export class SessionCache {
  readonly #entries = new Map<string, CacheEntry>();

  /**
   * @param capacity how many idle sessions to keep alive
   * @param reuseMemory passed to {@link createSession}
   */
  constructor(readonly capacity: number, readonly reuseMemory: boolean) {}

  /** Lends the session for `key`, building its model with `build` on a miss. */
  async acquire(key: string, build: () => Uint8Array): Promise<SessionLease> {
    let entry = this.#entries.get(key);
    if (entry) {
      this.#entries.delete(key); // re-inserted below as most recently used
    } else {
      entry = { session: createSession(build(), this.reuseMemory), users: 0 };
    }
    this.#entries.set(key, entry);
    entry.users++;
    const held = entry;
    let session: OrtSession;
    try {
      session = await held.session;
    } catch (e) {
      this.#entries.delete(key);
      throw e;
    }
    this.#evict();
    let released = false;
    return {
      session,
      release: () => {
        if (released) return;
        released = true;
        held.users--;
        this.#evict();
      },
    };
  }

  #evict(): void {
    let excess = this.#entries.size - this.capacity;
    for (const [key, entry] of this.#entries) {
      if (excess <= 0) break;
      if (entry.users > 0) continue;
      this.#entries.delete(key);
      excess--;
      entry.session.then((s) => s.release()).then(trimNativeHeap).catch(() => {});
    }
  }

  /** Releases every session (callers must have released their leases). */
  async clear(): Promise<void> {
    const all = [...this.#entries.values()];
    this.#entries.clear();
    for (const e of all) await e.session.then((s) => s.release()).catch(() => {});
    trimNativeHeap();
  }
}
