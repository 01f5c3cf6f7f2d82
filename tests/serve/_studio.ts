/** A studio server for tests: temporary recipes, uploads and output folders on a loopback port. */
import { join } from "node:path";
import { renderChildCommand, validateRecipeText } from "../../src/cli/serve.ts";
import { loadCliRecipe } from "../../src/cli/load.ts";
import type { Folders } from "../../src/serve/folders.ts";
import { RenderJobs } from "../../src/serve/render_jobs.ts";
import { type FarmAccess, serveHandler } from "../../src/serve/server.ts";
import { repoRoot, testImagesDir } from "../stages/_context.ts";

/** A running test server. */
export interface StudioServer {
  readonly url: string;
  readonly port: number;
  readonly dir: string;
  readonly folders: Folders;
  readonly jobs: RenderJobs;
  /** The lines the server logged (one when a render starts, one when it ends). */
  readonly log: readonly string[];
  /** Cancels renders, stops the server and removes its folders. */
  stop(): Promise<void>;
}

/** What a test may change. */
export interface StudioOptions {
  /** The address the guard believes it is bound to (the socket is always 127.0.0.1). */
  readonly boundHost?: string;
  readonly token?: string;
  readonly farm?: FarmAccess;
}

/** Starts a server whose recipes folder holds the conv3 example as `conv3.yaml`. */
export async function startStudio(options: StudioOptions = {}): Promise<StudioServer> {
  const dir = await Deno.realPath(await Deno.makeTempDir({ prefix: "stylepipe-studio-" }));
  const folders: Folders = {
    recipesDir: join(dir, "recipes"),
    outDir: join(dir, "out"),
    uploadsDir: join(dir, "uploads"),
    imageDirs: [join(dir, "uploads"), testImagesDir()],
  };
  for (const d of [folders.recipesDir, folders.outDir, folders.uploadsDir]) await Deno.mkdir(d);
  await Deno.copyFile(
    join(repoRoot, "pipelines/tubingen-starry-conv3.yaml"),
    join(folders.recipesDir, "conv3.yaml"),
  );
  const log: string[] = [];
  const jobs = new RenderJobs({
    outDir: folders.outDir,
    cacheDir: null,
    previewEvery: 2,
    imageDirs: folders.imageDirs,
    load: (file, sets) => loadCliRecipe(file, { sets, plugins: "refuse" }),
    childCommand: renderChildCommand(),
    log: (line) => log.push(line),
  });
  const controller = new AbortController();
  let port = 0;
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, signal: controller.signal, onListen: () => {} },
    serveHandler({
      jobs,
      folders,
      guard: () => ({ hostname: options.boundHost ?? "127.0.0.1", port, token: options.token }),
      validate: validateRecipeText,
      farm: options.farm,
    }),
  );
  port = server.addr.port;
  return {
    url: `http://127.0.0.1:${port}/`,
    port,
    dir,
    folders,
    jobs,
    log,
    async stop() {
      await jobs.close();
      controller.abort();
      await server.finished;
      await Deno.remove(dir, { recursive: true });
    },
  };
}
