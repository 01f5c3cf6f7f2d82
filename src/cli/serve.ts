/** `serve`: a local web page to start renders and watch their previews and loss curves live. */
import { CacheStore, DEFAULT_CACHE_DIR } from "../pipeline/cache.ts";
import { checkQueueUrl, openQueue } from "../farm/connection.ts";
import { snapshot } from "../farm/inspect.ts";
import { RenderJobs } from "../serve/render_jobs.ts";
import { serveHandler } from "../serve/server.ts";
import { parseCommandArgs } from "./args.ts";
import { EXIT, reportError, UsageError } from "./errors.ts";
import { loadCliRecipe } from "./load.ts";

const HELP = `Usage: deno task serve [--port P] [--host H] [--recipes DIR] [options]

Serves a local web page (http://127.0.0.1:8470/ by default) that lists the recipes in DIR
(default pipelines/), starts renders with --set values, shows each running render's preview and
loss curve as it optimizes, and lists recent outputs of the output folder.

Options:
  --port P           port (default 8470; 0 picks a free one)
  --host H           address to listen on (default 127.0.0.1; anything else exposes the page and
                     the right to start renders to the network)
  --recipes DIR      folder of recipes the page may start (default pipelines)
  --out-dir DIR      output directory (default out/)
  --cache-dir DIR    cache directory (default ${DEFAULT_CACHE_DIR})
  --preview-every N  iterations between previews (default 5)
  --queue URL        also show the render farm's queue (redis://HOST:PORT[/DB])`;

/** Runs the `serve` command until interrupted; returns the exit code. */
export async function serveCommand(args: string[]): Promise<number> {
  try {
    const { values } = parseCommandArgs("serve", args, {
      port: { type: "string" },
      host: { type: "string" },
      recipes: { type: "string" },
      "out-dir": { type: "string" },
      "cache-dir": { type: "string" },
      "preview-every": { type: "string" },
      queue: { type: "string" },
    });
    if (values.help) {
      console.log(HELP);
      return EXIT.ok;
    }
    const port = wholeNumber("--port", values.port ?? "8470", 0);
    const previewEvery = wholeNumber("--preview-every", values["preview-every"] ?? "5", 1);
    const hostname = values.host ?? "127.0.0.1";
    const outDir = values["out-dir"] ?? "out";
    const jobs = new RenderJobs({
      outDir,
      cache: new CacheStore(values["cache-dir"] ?? DEFAULT_CACHE_DIR),
      previewEvery,
      load: (file, sets) => loadCliRecipe(file, { sets }),
    });
    const farm = values.queue ? openQueue(checkQueueUrl(values.queue)) : undefined;
    const controller = new AbortController();
    const stop = () => controller.abort();
    Deno.addSignalListener("SIGINT", stop);
    if (Deno.build.os !== "windows") Deno.addSignalListener("SIGTERM", stop);
    const server = Deno.serve(
      {
        hostname,
        port,
        signal: controller.signal,
        onListen: ({ hostname, port }) => console.log(`serving http://${hostname}:${port}/`),
      },
      serveHandler({
        jobs,
        recipesDir: values.recipes ?? "pipelines",
        outDir,
        queueSnapshot: farm && (() => snapshot(farm.queue)),
      }),
    );
    await server.finished;
    await farm?.close();
    return EXIT.ok;
  } catch (e) {
    return reportError(e, { debug: args.includes("--debug"), json: false });
  }
}

function wholeNumber(flag: string, text: string, min: number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > 65535) {
    throw new UsageError(`serve: ${flag} needs a whole number ≥ ${min}, got "${text}"`);
  }
  return n;
}
