/**
 * `deno task weights [vgg19|vgg16] [--from FILE.h5] [--dir D] [--force]`: installs the full VGG
 * weights as a verified TF.js layers-model folder, downloading Keras' published `.h5` (MD5-checked)
 * or importing a local one.
 */
import { stylepipeCommand } from "../util/invocation.ts";
import { didYouMean } from "../recipe/suggest.ts";
import { basename, join } from "node:path";
import { weightsCatalog } from "../neural/models/catalog.ts";
import { type DownloadProgress, downloadVerified, md5File } from "../neural/models/download.ts";
import { importKerasH5 } from "../neural/models/h5_import.ts";
import { convLayers } from "../neural/models/layers.ts";
import {
  availableConvs,
  loadVggWeights,
  WeightsError,
  weightsSearchDirs,
} from "../neural/models/weights.ts";
import { table } from "./progress.ts";
import { parseCommandArgs } from "./args.ts";
import { pathExists } from "../util/path_exists.ts";
import { messageOf } from "../util/errors.ts";

/** Where the command writes: normal output and diagnostics/progress (raw text, no newline added). */
export interface WeightsCommandIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** Whether stderr is a terminal (progress redraws one line) or a log (progress every 10%). */
  readonly interactive: boolean;
}

const encoder = new TextEncoder();
const processIo: WeightsCommandIo = {
  stdout: (text) => Deno.stdout.writeSync(encoder.encode(text)),
  stderr: (text) => Deno.stderr.writeSync(encoder.encode(text)),
  interactive: Deno.stderr.isTerminal(),
};

const USAGE = `Usage: deno task weights [MODEL] [--from FILE.h5] [--dir DIR] [--force]
       deno task weights list [--dir DIR]

Installs full VGG weights into DIR/MODEL/ as a TensorFlow.js layers-model with SHA256SUMS.

  MODEL          ${Object.keys(weightsCatalog).join(" | ")} (default vgg19)
  --from FILE    import a local Keras .h5 weights file instead of downloading
  --dir DIR      weights folder (default: $STYLEPIPE_WEIGHTS, else ./weights)
  --force        replace an existing DIR/MODEL/
  -h, --help     show this help

Without --from, downloads Keras' "notop" .h5 and checks its published MD5.
"list" shows the installed models: folder, convolutions, deepest layer, SHA256SUMS verified or not.
`;

/** Runs the `weights` command; returns the exit code (0 done, 1 failed, 2 usage error). */
export async function weightsCommand(
  args: string[],
  io: WeightsCommandIo = processIo,
): Promise<number> {
  let parsed;
  try {
    parsed = parseCommandArgs("weights", args, {
      from: { type: "string" },
      dir: { type: "string" },
      force: { type: "boolean" },
    });
  } catch (e) {
    io.stderr(`error: ${messageOf(e)}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.stdout(USAGE);
    return 0;
  }
  if (positionals[0] === "list" && positionals.length === 1) {
    const dirs = values.dir ? [values.dir] : weightsSearchDirs();
    io.stdout(await listWeights(dirs));
    return 0;
  }
  const model = positionals[0] ?? "vgg19";
  const entry = weightsCatalog[model];
  if (positionals.length > 1 || !entry) {
    const problem = positionals.length > 1
      ? `expected one model, got ${positionals.join(" ")}`
      : `unknown model "${model}"${didYouMean(model, ["list", ...Object.keys(weightsCatalog)])} ` +
        `(known: ${Object.keys(weightsCatalog).join(", ")})`;
    io.stderr(`error: ${problem}\n\n${USAGE}`);
    return 2;
  }
  const dir = values.dir ?? Deno.env.get("STYLEPIPE_WEIGHTS") ?? "weights";
  const target = join(dir, model);
  try {
    if (!values.force && await pathExists(target)) return await reportExisting(dir, model, io);
    await Deno.mkdir(dir, { recursive: true });
    let source: string;
    let generatedBy: string;
    let partial: string | undefined;
    if (values.from) {
      source = values.from;
      const md5 = await md5File(source);
      const published = md5 === entry.md5;
      io.stderr(
        `importing ${source} (MD5 ${md5}${
          published ? `, the published ${entry.file}` : `, not the published ${entry.file}`
        })\n`,
      );
      generatedBy = `${basename(source)} (MD5 ${md5})`;
    } else {
      partial = join(dir, `.${model}-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}.h5.tmp`);
      source = partial;
      await Deno.writeFile(partial, new Uint8Array()).catch((e) => {
        throw new WeightsError(`cannot write to ${dir}: ${messageOf(e)}`, { cause: e });
      });
      io.stderr(`downloading ${entry.file} (${mb(entry.bytes)})\n`);
      const url = await downloadVerified(entry.urls, entry.md5, partial, {
        expectedBytes: entry.bytes,
        onProgress: progressReporter(io),
      });
      io.stderr(`${io.interactive ? "\n" : ""}MD5 ${entry.md5} matches ${entry.hashSource}\n`);
      generatedBy = `${entry.file} from ${url} (MD5 ${entry.md5})`;
    }
    try {
      const result = await importKerasH5(source, target, {
        expected: entry.arch,
        force: values.force,
        generatedBy,
      });
      const weights = await loadVggWeights([dir], model);
      const full = result.convs.length === convLayers(entry.arch).length;
      io.stdout(
        `${target}: ${result.arch}, ${result.convs.length} convolutions ` +
          `(${result.convs[0]} … ${result.convs.at(-1)}${full ? ", complete" : ", partial"}), ` +
          `${result.files.length} files, verified (id ${weights.id.slice(0, 12)})\n`,
      );
    } finally {
      if (partial) await Deno.remove(partial).catch(() => {});
    }
    return 0;
  } catch (e) {
    const message = messageOf(e);
    const hint = e instanceof WeightsError && message.startsWith("could not download")
      ? `\nDownload ${
        entry.urls[0]
      } yourself and run "${stylepipeCommand()} weights ${model} --from FILE.h5".`
      : "";
    io.stderr(`${io.interactive ? "\n" : ""}error: ${message}${hint}\n`);
    return 1;
  }
}

/**
 * The installed models in `dirs` (each folder's `<model>/` for every catalog model): architecture,
 * convolutions present, deepest usable layer, and whether every file matches SHA256SUMS.
 */
export async function listWeights(dirs: readonly string[]): Promise<string> {
  const rows: string[][] = [];
  for (const dir of dirs) {
    for (const model of Object.keys(weightsCatalog)) {
      if (!await pathExists(join(dir, model))) continue;
      let available;
      try {
        available = await availableConvs([dir], model);
      } catch (e) {
        rows.push([model, join(dir, model), "-", "-", `unusable: ${messageOf(e)}`]);
        continue;
      }
      const { arch, convs } = available;
      const complete = convs.length === convLayers(arch).length;
      let verified: string;
      try {
        await loadVggWeights([dir], model);
        verified = "yes";
      } catch (e) {
        verified = `no: ${messageOf(e)}`;
      }
      rows.push([
        model,
        join(dir, model),
        `${convs.length}${complete ? " (complete)" : " (partial)"}`,
        convs.at(-1)?.replace(/^conv/, "relu") ?? "-",
        verified,
      ]);
    }
  }
  if (!rows.length) {
    return `no weights installed in ${
      dirs.join(", ")
    }; run "${stylepipeCommand()} weights vgg19"\n`;
  }
  return table(["model", "folder", "convolutions", "deepest layer", "verified"], rows) + "\n";
}

/** An existing folder without --force: fine when complete, else say how to replace it. */
async function reportExisting(dir: string, model: string, io: WeightsCommandIo): Promise<number> {
  const target = join(dir, model);
  let available;
  try {
    available = await availableConvs([dir], model);
  } catch (e) {
    io.stderr(
      `error: ${target} exists but is unusable (${messageOf(e)}); ` +
        `pass --force to replace it\n`,
    );
    return 1;
  }
  const { arch, convs } = available;
  if (convs.length === convLayers(arch).length) {
    io.stdout(`${target} already holds the complete ${arch} (${convs.length} convolutions)\n`);
    return 0;
  }
  io.stderr(
    `error: ${target} holds a partial ${arch} (${convs[0]} … ${convs.at(-1)}); ` +
      `pass --force to replace it with the full set\n`,
  );
  return 1;
}

/** Progress to stderr: a redrawn line on a terminal, a line per 10% otherwise. */
function progressReporter(io: WeightsCommandIo): (p: DownloadProgress) => void {
  let lastDraw = 0;
  let lastTenth = -1;
  return ({ received, total }) => {
    const percent = total ? Math.min(100, (100 * received) / total) : undefined;
    const text = `  ${mb(received)}${total ? ` / ${mb(total)} (${percent!.toFixed(0)}%)` : ""}`;
    if (io.interactive) {
      const now = Date.now();
      if (now - lastDraw < 200 && received !== total) return;
      lastDraw = now;
      io.stderr(`\r${text}`);
    } else if (percent !== undefined && Math.floor(percent / 10) > lastTenth) {
      lastTenth = Math.floor(percent / 10);
      io.stderr(`${text}\n`);
    }
  };
}

function mb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}
