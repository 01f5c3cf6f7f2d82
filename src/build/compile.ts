/**
 * `deno task compile [--output FILE]`: one linux-x64 (glibc) executable of the CLI, carrying only
 * that platform's onnxruntime library (src/build/compile_payload.ts says what stays out). `deno
 * compile` takes its runtime, denort, from dl.deno.land; where that cannot be reached, download
 * denort-x86_64-unknown-linux-gnu.zip of this Deno version elsewhere and set DENORT_BIN to the
 * unzipped file.
 */
import { dirname, resolve } from "node:path";
import { parseScriptArgs } from "../cli/args.ts";
import { compilePayload, type Exclusion, LINUX_X64 } from "./compile_payload.ts";

const TARGET = "x86_64-unknown-linux-gnu";
const USAGE = "Usage: deno task compile [--output FILE]   (default dist/stylepipe)";

const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MB`;

/** The message for a failed `deno compile`, naming the fix when the runtime could not be fetched. */
export function compileFailure(stderr: string, denoVersion: string): string {
  if (/Setting up base binary|dl\.deno\.land/.test(stderr)) {
    const zip = `denort-${TARGET}.zip`;
    return `deno compile could not fetch its runtime: https://dl.deno.land/release/v${denoVersion}/` +
      `${zip} is out of reach from here. Download that file on a machine that can, unzip it, ` +
      `and run again with DENORT_BIN=/path/to/denort.`;
  }
  return `deno compile failed:\n${stderr.trim()}`;
}

async function main(): Promise<number> {
  const { values } = parseScriptArgs("compile", USAGE, Deno.args, {
    output: { type: "string", short: "o" },
  });
  const root = resolve(dirname(new URL(import.meta.url).pathname), "../..");
  const output = resolve(values.output ?? `${root}/dist/stylepipe`);
  const payload = await compilePayload(root, LINUX_X64);
  const byReason = new Map<string, Exclusion[]>();
  for (const x of payload.exclusions) byReason.set(x.reason, [...byReason.get(x.reason) ?? [], x]);
  console.log(`left out of the binary (${TARGET}):`);
  for (const [reason, list] of byReason) {
    console.log(
      `  ${reason}: ${list.length} path(s), ${mb(list.reduce((a, x) => a + x.bytes, 0))}`,
    );
  }
  console.log(`onnxruntime kept: ${payload.onnxruntimeKept.join(", ") || "(none)"}`);
  console.log(`node_modules embedded: ${mb(payload.keptBytes)}`);

  await Deno.mkdir(dirname(output), { recursive: true });
  const args = [
    "compile",
    "-A",
    "--deny-import",
    "--target",
    TARGET,
    "--output",
    output,
    ...payload.exclusions.flatMap((x) => ["--exclude", x.path]),
    "mod.ts",
  ];
  const result = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: root,
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  const stderr = new TextDecoder().decode(result.stderr);
  if (!result.success) {
    console.error(`error: ${compileFailure(stderr, Deno.version.deno)}`);
    return 1;
  }
  const binary = (await Deno.stat(output)).size;
  const base = Deno.env.get("DENORT_BIN");
  const runtime = base ? (await Deno.stat(base)).size : undefined;
  console.log(
    `wrote ${output}: ${mb(binary)}` +
      (runtime === undefined
        ? ""
        : ` (base binary ${mb(runtime)}, payload ${mb(binary - runtime)})`),
  );
  return 0;
}

if (import.meta.main) Deno.exit(await main());
