/**
 * Keeps the C heap (glibc malloc) from holding on to memory the onnx engine has freed.
 *
 * Building an ONNX Runtime session parses, copies and re-lays-out the network's weights several
 * times, and glibc keeps most of those freed blocks (measured: VGG19 to relu5_1 loss session,
 * 589 MB resident → 200 MB after `malloc_trim`). After such a large free glibc also raises its
 * mmap threshold to 32 MB, so every later image-sized buffer (a 512² gradient is 3 MB; the
 * optimizer makes several per step) comes from the heap and fragments it; a fixed 1 MiB threshold
 * gives those buffers back to the system when they are freed. Only on Linux with glibc;
 * elsewhere, or without FFI permission, these do nothing.
 */

interface Libc {
  trim(): void;
  fixMmapThreshold(bytes: number): void;
}

const M_MMAP_THRESHOLD = -3;
let libc: Libc | null | undefined;

function loadLibc(): Libc | null {
  if (Deno.build.os !== "linux") return null;
  try {
    const { symbols } = Deno.dlopen("libc.so.6", {
      malloc_trim: { parameters: ["usize"], result: "i32" },
      mallopt: { parameters: ["i32", "i32"], result: "i32" },
    });
    return {
      trim: () => void symbols.malloc_trim(0n),
      fixMmapThreshold: (bytes) => void symbols.mallopt(M_MMAP_THRESHOLD, bytes),
    };
  } catch {
    return null; // musl, no --allow-ffi, …
  }
}

/** Gives the C heap's free pages back to the operating system where glibc allows it. */
export function trimNativeHeap(): void {
  libc ??= loadLibc();
  libc?.trim();
}

/** Serves allocations of 1 MiB and more from their own mappings, returned to the system on free. */
export function returnLargeBuffersOnFree(): void {
  libc ??= loadLibc();
  libc?.fixMmapThreshold(1 << 20);
}
