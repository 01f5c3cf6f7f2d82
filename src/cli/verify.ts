/**
 * `deno task verify <output.png>…`: re-renders each output from its provenance record (cache
 * bypassed, into a temporary folder) and says whether the result is identical. Exit 0 when every
 * output's pixels are identical, 1 when one differs, 2 on usage errors.
 */
import { defaultImageDirs, defaultWeightsDirs } from "../pipeline/locations.ts";
import { reproduce, type Reproduction } from "../pipeline/reproduce.ts";
import { builtinStages } from "../stages/builtin.ts";
import { parseCommandArgs } from "./args.ts";
import { EXIT, reportError, UsageError } from "./errors.ts";

const HELP = `Usage: deno task verify <output.png>… [--allow-plugins] [--json] [--debug]

Re-renders each output from the provenance record embedded in it (or its NAME.png.json sidecar)
with the same engine, the cache bypassed, into a temporary folder, and compares:
  identical   same bytes (pixels and record), or same pixels when only the record differs
  different   the largest 8-bit pixel difference and where it is
The original recipe's plugins are code: they are loaded only with --allow-plugins (an output
received from someone else must not run the files beside it).
Exit code: 0 all identical, 1 a difference or a failure, 2 usage error.`;

/** Runs the `verify` command; returns the exit code. */
export async function verifyCommand(args: string[]): Promise<number> {
  let json = false;
  let debug = false;
  try {
    const { values, positionals } = parseCommandArgs("verify", args, {
      "allow-plugins": { type: "boolean" },
    });
    json = !!values.json;
    debug = !!values.debug;
    if (values.help) {
      console.log(HELP);
      return EXIT.ok;
    }
    if (positionals.length === 0) {
      throw new UsageError("verify: expected one or more output files (see --help)");
    }
    const stop = new AbortController();
    const onSignal = () => stop.abort();
    Deno.addSignalListener("SIGINT", onSignal);
    let code: number = EXIT.ok;
    try {
      for (const output of positionals) {
        const r = await reproduce(output, {
          registry: builtinStages(),
          imageDirs: defaultImageDirs(),
          weightsDirs: defaultWeightsDirs(),
          signal: stop.signal,
          plugins: values["allow-plugins"] ? "load" : "refuse",
        });
        if (!r.identicalPixels) code = EXIT.failure;
        if (json) console.log(JSON.stringify({ type: "verify", output, ...r }));
        else for (const line of describe(output, r)) console.log(line);
      }
    } finally {
      Deno.removeSignalListener("SIGINT", onSignal);
    }
    return code;
  } catch (e) {
    return reportError(e, { debug, json });
  }
}

/** Human-readable lines for one result. */
export function describe(output: string, r: Reproduction): string[] {
  const how = `re-rendered with ${r.engine} in ${r.seconds.toFixed(1)} s`;
  const lines = [
    r.identicalBytes
      ? `${output}: identical (same bytes; ${how})`
      : r.identicalPixels
      ? `${output}: identical pixels; the embedded record differs (${how})`
      : r.maxDifference < 0
      ? `${output}: different: size ${r.size.original}, re-rendered ${r.size.reproduced} (${how})`
      : `${output}: different: largest pixel difference ${r.maxDifference}/255 at ` +
        `(${r.at!.x}, ${r.at!.y}) (${how})`,
  ];
  for (const note of r.notes) lines.push(`  note: ${note}`);
  return lines;
}
