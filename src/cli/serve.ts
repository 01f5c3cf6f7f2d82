/**
 * `serve`: the studio, a local web page to start renders and watch their previews and loss
 * curves live, edit recipes, and browse outputs with their records. `serve --render-child` is the
 * process each page-started render runs in (see serve/render_child.ts).
 */
import { resolve } from "node:path";
import { checkQueueUrl, type FarmQueue, openQueue } from "../farm/connection.ts";
import { snapshot } from "../farm/inspect.ts";
import { submitRecipe } from "../farm/submit.ts";
import { DEFAULT_CACHE_DIR } from "../pipeline/cache.ts";
import { defaultImageDirs, defaultWeightsDirs } from "../pipeline/locations.ts";
import { reproduce } from "../pipeline/reproduce.ts";
import { RecipeError, type RecipeIssue } from "../recipe/errors.ts";
import { pageScripts } from "../serve/bundle.ts";
import type { Folders } from "../serve/folders.ts";
import { isLoopback, newToken } from "../serve/guard.ts";
import { type ChildTools, runRenderChild } from "../serve/render_child.ts";
import { RenderJobs } from "../serve/render_jobs.ts";
import { type FarmAccess, serveHandler } from "../serve/server.ts";
import { builtinStages } from "../stages/builtin.ts";
import { parseCommandArgs } from "./args.ts";
import { EXIT, reportError, UsageError } from "./errors.ts";
import { loadJobRecipe, recipeRefOf } from "./farm_args.ts";
import { loadCliRecipe } from "./load.ts";
import { selfCommand } from "./self_command.ts";
import { describe } from "./verify.ts";
import { messageOf } from "../util/errors.ts";

const HELP = `Usage: deno task serve [--port P] [--host H] [--recipes DIR] [options]

Serves the studio, a local web page (http://127.0.0.1:8470/ by default): choose a recipe from DIR
(default pipelines/) and its images, render it and watch the preview and loss curve live, edit
recipes with validation as you type, browse the outputs with their records, and drop any stylepipe
PNG on the page to open the recipe that made it. Each render runs in its own process.

Options:
  --port P           port (default 8470; 0 picks a free one)
  --host H           address to listen on (default 127.0.0.1). Any other address requires a
                     token on every API call: one is generated and printed, or give --token
  --token T          the token to require (at least 16 characters)
  --recipes DIR      folder of recipes the page lists, starts and saves into (default pipelines)
  --out-dir DIR      output directory (default out/)
  --uploads DIR      where uploaded images go, searched first for inputs (default OUT/uploads)
  --cache-dir DIR    cache directory (default ${DEFAULT_CACHE_DIR})
  --preview-every N  iterations between previews (default 5)
  --queue URL        also show the render farm's queue and submit to it (redis://HOST:PORT[/DB])
  --render-child     (internal) be the process one page-started render runs in

Inputs are found in the recipe's folder, then the uploads folder, $STYLEPIPE_IMAGES and
pipelines/images; the page can name no other file.`;

/**
 * The command that starts a render process (`serve --render-child`, also from a compiled binary),
 * at a lower scheduling priority where `nice` exists: the page's requests go first when the render
 * and the server share cores.
 */
export function renderChildCommand(): string[] {
  const command = selfCommand("serve", "--render-child");
  const nice = "/usr/bin/nice";
  return Deno.build.os !== "windows" && existsSync(nice) ? [nice, "-n", "10", ...command] : command;
}

function existsSync(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

/** Runs the `serve` command until interrupted; returns the exit code. */
export async function serveCommand(args: string[]): Promise<number> {
  try {
    const { values } = parseCommandArgs("serve", args, {
      port: { type: "string" },
      host: { type: "string" },
      token: { type: "string" },
      recipes: { type: "string" },
      "out-dir": { type: "string" },
      uploads: { type: "string" },
      "cache-dir": { type: "string" },
      "preview-every": { type: "string" },
      queue: { type: "string" },
      "render-child": { type: "boolean" },
    });
    if (values.help) {
      console.log(HELP);
      return EXIT.ok;
    }
    if (values["render-child"]) return await runRenderChild(childTools);
    const port = wholeNumber("--port", values.port ?? "8470", 0);
    const previewEvery = wholeNumber("--preview-every", values["preview-every"] ?? "5", 1);
    const hostname = values.host ?? "127.0.0.1";
    if (values.token !== undefined && values.token.length < 16) {
      throw new UsageError("serve: --token needs at least 16 characters");
    }
    const token = values.token ?? (isLoopback(hostname) ? undefined : newToken());
    const outDir = resolve(values["out-dir"] ?? "out");
    const uploadsDir = resolve(values.uploads ?? `${outDir}/uploads`);
    const folders: Folders = {
      recipesDir: resolve(values.recipes ?? "pipelines"),
      outDir,
      uploadsDir,
      imageDirs: [uploadsDir, ...defaultImageDirs().map((d) => resolve(d))],
    };
    await Deno.mkdir(uploadsDir, { recursive: true });
    const jobs = new RenderJobs({
      outDir,
      cacheDir: values["cache-dir"] ?? DEFAULT_CACHE_DIR,
      previewEvery,
      imageDirs: folders.imageDirs,
      load: (file, sets) => loadCliRecipe(file, { sets, plugins: "refuse" }),
      childCommand: renderChildCommand(),
      log: (line) => console.log(`${new Date().toISOString().slice(11, 19)} ${line}`),
    });
    const farm = values.queue ? openQueue(checkQueueUrl(values.queue)) : undefined;
    pageScripts().catch((e) => console.error(`warning: ${e.message}`));
    const controller = new AbortController();
    const stop = () => controller.abort();
    Deno.addSignalListener("SIGINT", stop);
    if (Deno.build.os !== "windows") Deno.addSignalListener("SIGTERM", stop);
    let server: Deno.HttpServer;
    try {
      server = Deno.serve(
        {
          hostname,
          port,
          signal: controller.signal,
          onListen: ({ hostname, port }) => {
            const host = hostname.includes(":") ? `[${hostname}]` : hostname;
            console.log(`serving http://${host}:${port}/${token ? `?token=${token}` : ""}`);
            if (token && values.token === undefined) {
              console.log("(the token is new each start; give --token T to keep one)");
            }
          },
        },
        serveHandler({
          jobs,
          folders,
          guard: () => ({ hostname, port: (server.addr as Deno.NetAddr).port, token }),
          validate: validateRecipeText,
          farm: farm && studioFarm(farm, outDir),
        }),
      );
    } catch (e) {
      if (e instanceof Deno.errors.AddrInUse) {
        throw new UsageError(
          `serve: port ${port} on ${hostname} is already in use (another serve?); ` +
            `choose another with --port, e.g. --port ${port + 1}, or --port 0 for any free one`,
        );
      }
      throw e;
    }
    await server.finished;
    await jobs.close();
    await farm?.close();
    return EXIT.ok;
  } catch (e) {
    return reportError(e, { debug: args.includes("--debug"), json: false });
  }
}

/** The render farm as the page uses it: its queue and workers, and `submit` of a recipe file. */
export function studioFarm(farm: FarmQueue, outDir: string): FarmAccess {
  return {
    snapshot: async () => {
      const workers = await farm.queue.getWorkers();
      return { ...await snapshot(farm.queue), workers: workers.map((w) => w.name || w.addr) };
    },
    submit: async (file, sets) => {
      const ref = recipeRefOf(file, { sets, outDir });
      const submitted = await submitRecipe(farm.queue, await loadJobRecipe(ref), ref);
      return submitted.map((j) => j.id);
    },
  };
}

/** The issues `validate` finds in recipe text (plugins are not loaded). */
export async function validateRecipeText(
  text: string,
  file: string,
): Promise<readonly RecipeIssue[]> {
  try {
    await loadCliRecipe(file, { text, plugins: "refuse" });
    return [];
  } catch (e) {
    if (e instanceof RecipeError) return e.issues;
    return [{ file, pos: { line: 1, col: 1 }, message: messageOf(e) }];
  }
}

/** What a render process needs from the CLI: the recipe loader and `verify`. */
const childTools: ChildTools = {
  load: (file, sets) => loadCliRecipe(file, { sets, plugins: "refuse" }),
  async verify(output, imageDirs, signal) {
    const r = await reproduce(output, {
      registry: builtinStages(),
      imageDirs,
      weightsDirs: defaultWeightsDirs(),
      signal,
    });
    return describe(output.split("/").at(-1)!, r).join("; ");
  },
};

function wholeNumber(flag: string, text: string, min: number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > 65535) {
    throw new UsageError(`serve: ${flag} needs a whole number ≥ ${min}, got "${text}"`);
  }
  return n;
}
