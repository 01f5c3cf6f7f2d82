/**
 * The local web server of `deno task serve`: the page and its script, the recipes (listed with
 * their description and variables, validated as typed, saved by name), the images of the lookup
 * folders (and uploads), the renders (start, cancel, live events as server-sent events), the
 * outputs (gallery, records, verify, the recipe inside a dropped PNG) and, with `--queue`, the
 * render farm. Every request passes guard.ts; every path passes folders.ts.
 */
import { Buffer } from "node:buffer";
import { parse as parseYaml, stringify as toYaml } from "npm:yaml@2.9.1";
import { readImageHeader } from "../image/codecs.ts";
import {
  extractProvenance,
  type Json,
  PROVENANCE_FORMAT,
  type ProvenanceSidecar,
} from "../pipeline/provenance.ts";
import { sidecarPath } from "../pipeline/paths.ts";
import { recordedRecipe } from "../pipeline/reproduce.ts";
import type { RecipeIssue } from "../recipe/errors.ts";
import { checkPixels, maxPixels } from "../stages/pixel_limit.ts";
import { pageScripts } from "./bundle.ts";
import {
  checkSets,
  FolderError,
  type Folders,
  IMAGE_EXTENSIONS,
  imageFile,
  listImages,
  outputFile,
  recipeFile,
  recipeNames,
  recipeTarget,
  safeName,
  shortPath,
} from "./folders.ts";
import { type GuardOptions, refusal } from "./guard.ts";
import { renderPage } from "./page.ts";
import type { JobUpdate, RenderJobs } from "./render_jobs.ts";
import { messageOf } from "../util/errors.ts";

/** The render farm as the CLI hands it over (serve never imports the farm). */
export interface FarmAccess {
  /** The queue as `deno task queue --json` shows it. */
  snapshot(): Promise<unknown>;
  /** Submits a recipe file with `--set` values; returns the jobs' ids. */
  submit(file: string, sets: readonly string[]): Promise<readonly string[]>;
}

/** What the server serves. */
export interface ServerOptions {
  readonly jobs: RenderJobs;
  readonly folders: Folders;
  /** The bound address and token, read per request (the port is known once listening). */
  readonly guard: () => GuardOptions;
  /** Validates recipe text as `validate` does (`file` names it and anchors its paths). */
  readonly validate: (text: string, file: string) => Promise<readonly RecipeIssue[]>;
  /** The render farm, when serving with `--queue`. */
  readonly farm?: FarmAccess;
}

/** A gallery entry, from an output's provenance sidecar. */
export interface GalleryEntry {
  /** Path relative to the output folder. */
  readonly file: string;
  readonly recipe: string;
  readonly modified: string;
  readonly seed: number;
  readonly engine: string;
  readonly finalLoss?: number;
}

/** Largest JSON body accepted (an upload's base64 included). */
const MAX_BODY_BYTES = 64 * 1024 * 1024;

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" },
  });
const notFound = () => json({ error: "not found" }, 404);

/** The request handler. */
export function serveHandler(options: ServerOptions): (request: Request) => Promise<Response> {
  return async (request) => {
    const url = new URL(request.url);
    const refused = refusal(request, url, options.guard());
    if (refused) return refused;
    try {
      return await route(options, request, url);
    } catch (e) {
      if (e instanceof FolderError || e instanceof BadRequest) {
        return json({ error: e.message }, 400);
      }
      throw e;
    }
  };
}

class BadRequest extends Error {}

async function route(options: ServerOptions, request: Request, url: URL): Promise<Response> {
  const { jobs, folders } = options;
  const method = request.method;
  if (method === "GET" && url.pathname === "/") {
    return new Response(renderPage(), {
      headers: { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" },
    });
  }
  if (method === "GET" && url.pathname.startsWith("/assets/")) {
    const script = (await pageScripts()).get(url.pathname.slice("/assets/".length));
    return script === undefined ? notFound() : new Response(script, {
      headers: { "content-type": "text/javascript; charset=utf-8" },
    });
  }
  const parts = url.pathname.split("/").filter(Boolean).map(decodeURIComponent);
  if (parts[0] !== "api") return notFound();
  const [, resource, id, sub] = parts;
  const get = method === "GET", post = method === "POST";
  switch (resource) {
    case "info":
      return get ? json(info(options)) : notFound();
    case "recipes":
      if (get) return json(await recipeList(folders));
      if (post) return await saveRecipe(options, await body(request));
      return notFound();
    case "validate":
      return post ? await validateText(options, await body(request)) : notFound();
    case "images":
      if (get && !id) return json(await listImages(folders));
      if (get) return await fileResponse(await imageFile(folders, id));
      if (post) return await upload(folders, await body(request));
      return notFound();
    case "outputs":
      if (get && !id) return json(await gallery(folders));
      if (get) return await outputResponse(folders, parts.slice(2).join("/"));
      return notFound();
    case "records":
      return get && id ? await record(folders, parts.slice(2).join("/")) : notFound();
    case "provenance":
      return post ? await provenance(folders, await body(request)) : notFound();
    case "verify":
      return post ? await verify(options, await body(request)) : notFound();
    case "queue":
      if (!options.farm) return json({ error: "no render farm queue (serve --queue URL)" }, 404);
      if (get) return await queueView(options.farm);
      if (post) return await submit(options, options.farm, await body(request));
      return notFound();
    case "renders":
      break;
    default:
      return notFound();
  }
  if (!id) {
    if (get) return json(jobs.list());
    if (post) return await startRender(options, await body(request));
    return notFound();
  }
  const job = jobs.get(id);
  if (!job) return notFound();
  if (!sub && get) return json(job);
  if (sub === "cancel" && post) return json({ cancelled: jobs.cancel(id) });
  if (sub === "preview.png" && get) {
    const png = jobs.preview(id);
    return png
      ? new Response(png.slice(), {
        headers: { "content-type": "image/png", "cache-control": "no-store" },
      })
      : notFound();
  }
  if (sub === "events" && get) return eventStream(jobs, id);
  return notFound();
}

/** The request's JSON body (an object), bounded in size. */
async function body(request: Request): Promise<Record<string, unknown>> {
  const length = Number(request.headers.get("content-length") ?? 0);
  if (length > MAX_BODY_BYTES) throw new BadRequest(`the body is over ${MAX_BODY_BYTES} bytes`);
  const text = await request.text();
  if (text.length > MAX_BODY_BYTES) {
    throw new BadRequest(`the body is over ${MAX_BODY_BYTES} bytes`);
  }
  try {
    const value = JSON.parse(text);
    if (value && typeof value === "object" && !Array.isArray(value)) return value;
  } catch {
    // answered below
  }
  throw new BadRequest("the body must be a JSON object");
}

/** What the page shows before anything else. */
function info(options: ServerOptions) {
  return {
    recipesDir: shortPath(options.folders.recipesDir),
    outDir: shortPath(options.folders.outDir),
    imageDirs: options.folders.imageDirs.map(shortPath),
    maxMegapixels: maxPixels() / 1e6,
    farm: options.farm !== undefined,
  };
}

/** A recipe variable as the page's form shows it. */
interface VarField {
  readonly name: string;
  readonly type: "number" | "integer" | "boolean" | "string" | "image" | "list" | "map";
  /** The default as YAML text (the form's initial value). */
  readonly default: string;
}

/** The recipes with their description (leading comment), variables and text. */
async function recipeList(folders: Folders) {
  const images = new Set((await listImages(folders)).map((i) => i.name));
  const list = [];
  for (const name of await recipeNames(folders)) {
    const text = await Deno.readTextFile(await recipeFile(folders, name));
    list.push({ name, description: leadingComment(text), vars: varFields(text, images), text });
  }
  return list;
}

/**
 * The recipe's first comment lines (without the editor's schema line) as prose: wrapped lines are
 * joined, indented ones (commands) kept on their own line.
 */
function leadingComment(text: string): string {
  let prose = "";
  for (const line of text.split("\n")) {
    if (!line.startsWith("#")) break;
    if (line.includes("yaml-language-server")) continue;
    const body = line.replace(/^#\s?/, "");
    prose += /^\s/.test(body)
      ? `\n${body.trim()}\n`
      : prose && !prose.endsWith("\n")
      ? ` ${body}`
      : body;
  }
  return prose.trim();
}

/** The `vars:` of a recipe as form fields (none when the text does not parse). */
function varFields(text: string, images: ReadonlySet<string>): VarField[] {
  let vars: unknown;
  try {
    vars = parseYaml(text, { maxAliasCount: 100 })?.vars;
  } catch {
    return [];
  }
  if (!vars || typeof vars !== "object" || Array.isArray(vars)) return [];
  return Object.entries(vars).map(([name, value]) => ({
    name,
    type: typeof value === "number"
      ? (Number.isInteger(value) ? "integer" : "number")
      : typeof value === "boolean"
      ? "boolean"
      : typeof value === "string"
      ? (images.has(value) ? "image" : "string")
      : Array.isArray(value)
      ? "list"
      : "map",
    default: typeof value === "string" ? value : toYaml(value, { flow: true } as never).trim(),
  }));
}

/** POST /api/validate {text, name}: the recipe's issues as `validate` finds them. */
async function validateText(options: ServerOptions, b: Record<string, unknown>) {
  if (typeof b.text !== "string") throw new BadRequest("validate needs {text, name}");
  const name = b.name === undefined ? "untitled.yaml" : safeName(b.name, /\.ya?ml$/, "a recipe");
  const file = `${await Deno.realPath(options.folders.recipesDir)}/${name}`;
  const issues = await options.validate(b.text, file);
  return json({
    issues: issues.map((i) => ({
      line: i.pos.line,
      col: i.pos.col,
      step: i.step,
      message: i.message,
    })),
  });
}

/** POST /api/recipes {name, text, overwrite}: "Save as" into the recipes folder only. */
async function saveRecipe(options: ServerOptions, b: Record<string, unknown>) {
  if (typeof b.text !== "string") throw new BadRequest("save needs {name, text}");
  const target = await recipeTarget(options.folders, b.name);
  const exists = await Deno.stat(target).then(() => true, () => false);
  if (exists && b.overwrite !== true) {
    return json({ error: `${b.name} exists; choose another name or overwrite it` }, 409);
  }
  await Deno.writeTextFile(target, b.text);
  return json({ name: b.name, issues: await options.validate(b.text, target) }, 201);
}

/** POST /api/images {name, data}: an uploaded image (base64) into the uploads folder. */
async function upload(folders: Folders, b: Record<string, unknown>) {
  const name = safeName(b.name, IMAGE_EXTENSIONS, "an uploaded image");
  if (typeof b.data !== "string") throw new BadRequest("upload needs {name, data (base64)}");
  const bytes = new Uint8Array(Buffer.from(b.data, "base64"));
  let header;
  try {
    header = await readImageHeader(bytes);
  } catch {
    throw new BadRequest(`${name} is not an image stylepipe can read`);
  }
  try {
    checkPixels(header.width, header.height, name);
  } catch (e) {
    throw new BadRequest(messageOf(e));
  }
  await Deno.mkdir(folders.uploadsDir, { recursive: true });
  const target = `${await Deno.realPath(folders.uploadsDir)}/${name}`;
  if ((await Deno.lstat(target).catch(() => undefined))?.isSymlink) {
    throw new BadRequest(`"${name}" is a link in the uploads folder; choose another name`);
  }
  await Deno.writeFile(target, bytes);
  return json({ name, width: header.width, height: header.height }, 201);
}

/** POST /api/renders {recipe, sets}: 201 with the job, or 400 with the recipe's errors. */
async function startRender(options: ServerOptions, b: Record<string, unknown>) {
  const file = await recipeFile(options.folders, b.recipe);
  const sets = checkSets(b.sets);
  try {
    return json(await options.jobs.start(file, String(b.recipe), sets), 201);
  } catch (e) {
    return json({ error: messageOf(e) }, 400);
  }
}

/** POST /api/verify {file}: re-renders an output from its record and compares (a job). */
async function verify(options: ServerOptions, b: Record<string, unknown>) {
  const file = await outputFile(options.folders, String(b.file ?? ""));
  if (!file) throw new FolderError(`no output "${b.file}" in the output folder`);
  return json(options.jobs.verify(file, `verify ${b.file}`), 201);
}

/** The outputs with a provenance sidecar in the output folder, newest first (at most 100). */
async function gallery(folders: Folders): Promise<GalleryEntry[]> {
  const found: GalleryEntry[] = [];
  const root = await Deno.realPath(folders.outDir).catch(() => undefined);
  if (!root) return found;
  const walk = async (dir: string, depth: number): Promise<void> => {
    for await (const e of Deno.readDir(dir)) {
      const path = `${dir}/${e.name}`;
      if (e.isDirectory && depth < 3) await walk(path, depth + 1);
      if (!e.isFile || !e.name.endsWith(".json")) continue;
      const output = path.slice(0, -".json".length);
      try {
        const sidecar: ProvenanceSidecar = JSON.parse(await Deno.readTextFile(path));
        if (sidecar?.format !== PROVENANCE_FORMAT) continue;
        const stat = await Deno.stat(output);
        found.push({
          file: output.slice(root.length + 1),
          recipe: sidecar.recipe?.name ?? "",
          modified: (stat.mtime ?? new Date(0)).toISOString(),
          seed: sidecar.recipe?.seed ?? 0,
          engine: sidecar.engine?.name ?? "",
          finalLoss: lastLoss(sidecar.results),
        });
      } catch {
        // Not an output of ours (or deleted meanwhile).
      }
    }
  };
  await walk(root, 0);
  return found.sort((a, b) => b.modified.localeCompare(a.modified)).slice(0, 100);
}

function lastLoss(results: Record<string, Json> | undefined): number | undefined {
  for (const r of Object.values(results ?? {}).reverse()) {
    if (r && typeof r === "object" && !Array.isArray(r) && typeof r.final_loss === "number") {
      return r.final_loss;
    }
  }
  return undefined;
}

/** GET /api/records/<output>: the record panel's facts, from the output's sidecar. */
async function record(folders: Folders, relativePath: string) {
  const file = await outputFile(folders, relativePath);
  if (!file) return notFound();
  let sidecar: ProvenanceSidecar;
  try {
    sidecar = JSON.parse(await Deno.readTextFile(sidecarPath(file)));
  } catch {
    return json({ error: `${relativePath} has no record beside it` }, 404);
  }
  const results = Object.values(sidecar.results ?? {}) as Record<string, Json>[];
  const trace = results.find((r) => Array.isArray(r?.loss_trace))?.loss_trace ?? [];
  return json({
    file: relativePath,
    recipe: sidecar.recipe.name,
    recipeFile: sidecar.recipe.file,
    seed: sidecar.recipe.seed,
    engine: sidecar.engine,
    inputs: sidecar.inputs,
    startedAt: sidecar.run?.startedAt,
    finishedAt: sidecar.run?.finishedAt,
    finalLoss: lastLoss(sidecar.results),
    trace,
    yaml: recipeYaml(sidecar),
  });
}

/** The recipe a record describes, as YAML text for the editor. */
function recipeYaml(record: Parameters<typeof recordedRecipe>[0]): string {
  return `# Recreated from the record of an output of "${record.recipe.name}" (variables applied).\n` +
    toYaml(recordedRecipe(record));
}

/** POST /api/provenance {data}: the recipe inside a dropped PNG, or 422 saying there is none. */
function provenance(_folders: Folders, b: Record<string, unknown>) {
  if (typeof b.data !== "string") throw new BadRequest("provenance needs {name, data (base64)}");
  const name = typeof b.name === "string" ? b.name.slice(0, 128) : "the file";
  const bytes = new Uint8Array(Buffer.from(b.data, "base64"));
  try {
    const record = extractProvenance(bytes, name);
    return json({ name: record.recipe.name, yaml: recipeYaml(record) });
  } catch {
    return json({
      error: `${name} carries no stylepipe record: only PNGs written by stylepipe (render, ` +
        `serve, worker) hold the recipe that made them`,
    }, 422);
  }
}

/** GET /api/queue: the farm's queue, 503 when Redis does not answer. */
async function queueView(farm: FarmAccess): Promise<Response> {
  try {
    return json(await farm.snapshot());
  } catch (e) {
    return json({ error: `the queue does not answer: ${messageOf(e)}` }, 503);
  }
}

/** POST /api/queue {recipe, sets}: submits a saved recipe to the farm. */
async function submit(options: ServerOptions, farm: FarmAccess, b: Record<string, unknown>) {
  const file = await recipeFile(options.folders, b.recipe);
  const sets = checkSets(b.sets);
  try {
    return json({ jobs: await farm.submit(file, sets) }, 201);
  } catch (e) {
    return json({ error: messageOf(e) }, 400);
  }
}

/** An image or output file, typed by its extension. */
async function fileResponse(path: string): Promise<Response> {
  const type = /\.png$/i.test(path)
    ? "image/png"
    : /\.jpe?g$/i.test(path)
    ? "image/jpeg"
    : /\.webp$/i.test(path)
    ? "image/webp"
    : "application/octet-stream";
  return new Response(await Deno.readFile(path), { headers: { "content-type": type } });
}

/** GET /api/outputs/<relative path>: a file inside the output folder, never outside. */
async function outputResponse(folders: Folders, relativePath: string): Promise<Response> {
  const file = await outputFile(folders, relativePath);
  return file ? await fileResponse(file) : notFound();
}

const finished = (status: string) => ["done", "failed", "cancelled"].includes(status);

/** GET /api/renders/<id>/events: the job's state, then each update as it happens, until it ends. */
function eventStream(jobs: RenderJobs, id: string): Response {
  const encoder = new TextEncoder();
  let unsubscribe: (() => void) | undefined;
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      const send = (update: JobUpdate) => {
        try {
          controller.enqueue(encoder.encode(`data: ${JSON.stringify(update)}\n\n`));
        } catch {
          unsubscribe?.();
        }
      };
      const first = jobs.snapshot(id);
      first.forEach(send);
      const job = first[0];
      if (job?.type === "job" && finished(job.job.status)) return controller.close();
      unsubscribe = jobs.subscribe(id, (update) => {
        send(update);
        if (update.type === "job" && finished(update.job.status)) {
          unsubscribe?.();
          controller.close();
        }
      });
    },
    cancel() {
      unsubscribe?.();
    },
  });
  return new Response(stream, {
    headers: { "content-type": "text/event-stream", "cache-control": "no-store" },
  });
}
