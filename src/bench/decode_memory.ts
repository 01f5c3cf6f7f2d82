/**
 * What decoding an image costs in memory, measured: for each format and depth, an image of N
 * megapixels is written, then decoded by `decodeImage` in a child process whose peak resident
 * memory (VmHWM) above its resident memory before decoding, divided by the pixels, is the cost per
 * pixel. codecs.ts's `decodeBytesPerPixel` is set from these figures.
 * Usage: deno task dev decode-memory [MEGAPIXELS]   (default 8)
 */
import sharp from "npm:sharp@0.35.5";
import { join } from "node:path";
import { decodeImage } from "../image/codecs.ts";

/** A sharp pipeline. */
type Pipeline = ReturnType<typeof sharp>;

/** Formats measured: name → how sharp writes the test image. */
const CASES: Record<string, (s: Pipeline) => Pipeline> = {
  "jpeg-rgb8": (s) => s.jpeg({ quality: 90 }),
  "png-rgb8": (s) => s.png({ compressionLevel: 1 }),
  "png-rgba8": (s) => s.ensureAlpha().png({ compressionLevel: 1 }),
  "png-rgba16": (s) => s.ensureAlpha().toColourspace("rgb16").png({ compressionLevel: 1 }),
  "tiff-rgba16": (s) => s.ensureAlpha().toColourspace("rgb16").tiff({ compression: "deflate" }),
  "webp-rgb8": (s) => s.webp({ quality: 80, effort: 0 }),
  "avif-rgb8": (s) => s.avif({ quality: 50, effort: 0 }),
};

function vm(field: "VmRSS" | "VmHWM"): number {
  const line = Deno.readTextFileSync("/proc/self/status").split("\n").find((l) =>
    l.startsWith(field)
  );
  return Number(line!.split(/\s+/)[1]) * 1024;
}

if (import.meta.main) {
  if (Deno.args[0] === "--child") {
    const path = Deno.args[1];
    await decodeImage(new Uint8Array([0x89]), {}).catch(() => {}); // load sharp's code first
    const before = vm("VmRSS");
    const image = await decodeImage(path, {});
    const peak = vm("VmHWM");
    console.log(JSON.stringify({ pixels: image.width * image.height, before, peak }));
  } else {
    const mp = Number(Deno.args[0] ?? 8);
    const width = 4000;
    const height = Math.round(mp * 1e6 / width);
    const dir = await Deno.makeTempDir({ prefix: "stylepipe-decode-" });
    const load = Deno.loadavg()[0];
    console.log(`# ${width}×${height} px, load ${load.toFixed(1)}, ${new Date().toISOString()}`);
    try {
      for (const [name, write] of Object.entries(CASES)) {
        const path = join(dir, `${name}.img`);
        // A gradient, so every format really stores pixels (the decode cost does not depend on it).
        const raw = new Uint8Array(width * height * 3);
        for (let i = 0; i < raw.length; i++) raw[i] = (i * 7) & 255;
        await write(sharp(raw, { raw: { width, height, channels: 3 } })).toFile(path);
        const out = await new Deno.Command(Deno.execPath(), {
          args: ["run", "-A", import.meta.filename!, "--child", path],
        }).output();
        const r = JSON.parse(new TextDecoder().decode(out.stdout));
        const perPixel = (r.peak - r.before) / r.pixels;
        console.log(`${name.padEnd(12)} ${perPixel.toFixed(1)} bytes/pixel above baseline`);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  }
}
