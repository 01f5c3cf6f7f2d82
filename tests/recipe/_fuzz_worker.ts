/**
 * Runs fuzz cases for fuzz_test.ts and src/bench/fuzz.ts in a worker (so a case that hangs can be
 * stopped): each case is loaded with every extension the CLI uses and planned; the answer says
 * whether it was accepted, rejected (positioned issues, or a refused job or body), or crashed.
 * Kinds: `recipe` (mutated recipe text), `set` (`--set` values), `job` (a farm job payload, signed,
 * unsigned or tampered, checked as a worker with --root checks it) and `body` (a page request).
 */
import { join } from "node:path";
import { createImage } from "../../src/image/image.ts";
import { encodePng } from "../../src/image/codecs.ts";
import { planRecipe } from "../../src/pipeline/plan.ts";
import { scheduleExtension } from "../../src/pipeline/schedule.ts";
import { RecipeError } from "../../src/recipe/errors.ts";
import { parseRecipe, readRecipeText } from "../../src/recipe/load.ts";
import { matrixExtension } from "../../src/recipe/matrix.ts";
import { scalesExtension } from "../../src/recipe/scales.ts";
import { builtinStages } from "../../src/stages/builtin.ts";
import { fuzzCase } from "./_fuzz_cases.ts";
import { fuzzBody, fuzzJob, fuzzSets } from "./_fuzz_doors.ts";
import { checkJobData, JobShapeError } from "../../src/farm/jobs.ts";
import { JobSignatureError, signJob, verifyJob } from "../../src/farm/signing.ts";
import { confineToRoots } from "../../src/pipeline/paths.ts";
import { StageError } from "../../src/stages/stage.ts";

/** The worker's answer for one case. */
export interface FuzzAnswer {
  readonly index: number;
  readonly outcome: "accepted" | "rejected" | "crashed";
  /** Positions that are outside the file (line 1…lines+1, col ≥ 1). */
  readonly badPositions: string[];
  readonly message?: string;
  readonly how: string;
  readonly text?: string;
  readonly rss: number;
}

const dir = await Deno.makeTempDir({ prefix: "stylepipe-fuzz-" });
await Deno.writeFile(join(dir, "photo.png"), await encodePng(createImage(4, 3, 0.5)));
await Deno.writeFile(join(dir, "other.png"), await encodePng(createImage(3, 4, 0.25)));
const extensions = [matrixExtension([]), scalesExtension(), scheduleExtension()];

/** What the `set`, `job` and `body` cases load: the first base recipe of the recipe fuzzer. */
const BASICS = `version: 1
name: basics
vars: { photo: photo.png, size: 8, out: basics.png }
seed: 42
steps:
  - { id: photo, use: load, with: { path: "\${photo}" } }
  - { id: small, use: resize, from: photo, with: { max_side: "\${size}" } }
  - { id: final, use: save, from: small, with: { path: "\${out}" } }
`;
const basics = join(dir, "basics.yaml");
await Deno.writeTextFile(basics, BASICS);
const outside = await Deno.makeTempDir({ prefix: "stylepipe-fuzz-outside-" });
await Deno.writeFile(join(outside, "private.png"), await encodePng(createImage(2, 2, 1)));
const key = await crypto.subtle.importKey(
  "raw",
  new TextEncoder().encode("fuzz-farm-key-0123456789abcdef0123456789"),
  { name: "HMAC", hash: "SHA-256" },
  false,
  ["sign", "verify"],
);

/** Errors that are a refusal with a reason (the doors' equivalent of a positioned issue). */
const REFUSALS = [JobShapeError, JobSignatureError, StageError];

/** Loads (with `sets`) and plans recipe text as the CLI would. */
async function loadAndPlan(
  text: string,
  file: string,
  sets: readonly string[],
  plan: { outDir: string; imageDirs: readonly string[]; roots?: readonly string[] },
): Promise<void> {
  const recipe = await parseRecipe(text, file, {
    registry: builtinStages(),
    extensions,
    weightsDirs: [],
    plugins: "refuse",
    sets,
  });
  await planRecipe(recipe, {
    ...plan,
    weightsDirs: [],
    resolveEngine: (name) => Promise.resolve(name === "auto" ? "cpu" : name),
  });
}

/** Kinds of fuzz case. */
export type FuzzKind = "recipe" | "set" | "job" | "body";

/** One case of `kind`: what to run, and how it was made. */
function caseOf(
  kind: FuzzKind,
  seed: number,
  index: number,
): { text: string; how: string; go: () => Promise<void> } {
  if (kind === "recipe") {
    const { text, how } = fuzzCase(seed, index);
    const file = join(dir, "recipe.yaml");
    return {
      text,
      how,
      go: () => loadAndPlan(text, file, [], { outDir: join(dir, "out"), imageDirs: [] }),
    };
  }
  if (kind === "set") {
    const { sets, how } = fuzzSets(seed, index);
    return {
      text: BASICS,
      how,
      go: () => loadAndPlan(BASICS, basics, sets, { outDir: join(dir, "out"), imageDirs: [] }),
    };
  }
  if (kind === "job") {
    const { data, signing, how } = fuzzJob(seed, index, {
      recipe: basics,
      outDir: join(dir, "farm"),
      outside,
    });
    return {
      text: BASICS,
      how,
      go: async () => {
        // As a worker with a key and --root dir checks a job (farm/worker.ts renderJob).
        let job = checkJobData(data);
        if (signing !== "unsigned") job = await signJob(job, key);
        if (signing === "tampered") job = { ...job, outDir: outside };
        await verifyJob(checkJobData(job), key);
        confineToRoots(job.recipe, [dir], "recipe");
        confineToRoots(job.outDir, [dir], "output folder");
        const text = await readRecipeText(job.recipe);
        await loadAndPlan(text, job.recipe, job.sets, {
          outDir: job.outDir,
          imageDirs: job.imageDirs,
          roots: [dir],
        });
      },
    };
  }
  const { body, how } = fuzzBody(seed, index);
  return {
    text: BASICS,
    how,
    go: async () => {
      // The recipe/--set part of POST /api/renders (the HTTP checks are serve's own tests').
      let parsed: { recipe?: unknown; sets?: unknown };
      try {
        parsed = JSON.parse(body);
      } catch {
        throw new StageError("400: the body must be JSON");
      }
      if (parsed === null || typeof parsed !== "object" || parsed.recipe !== "basics.yaml") {
        throw new StageError("404: no such recipe");
      }
      const sets = Array.isArray(parsed.sets)
        ? parsed.sets.filter((s): s is string => typeof s === "string")
        : [];
      await loadAndPlan(BASICS, basics, sets, { outDir: join(dir, "out"), imageDirs: [] });
    },
  };
}

async function run(kind: FuzzKind, seed: number, index: number): Promise<FuzzAnswer> {
  const { text, how, go } = caseOf(kind, seed, index);
  const lines = text.split("\n").length;
  let outcome: FuzzAnswer["outcome"];
  let message: string | undefined;
  const badPositions: string[] = [];
  try {
    await go();
    outcome = "accepted";
  } catch (e) {
    if (REFUSALS.some((c) => e instanceof c) && !(e as Error).message) {
      outcome = "crashed";
      message = "a refusal without a reason";
    } else if (REFUSALS.some((c) => e instanceof c)) {
      outcome = "rejected";
    } else if (e instanceof RecipeError) {
      outcome = "rejected";
      for (const i of e.issues) {
        if (i.pos.line < 1 || i.pos.line > lines + 1 || i.pos.col < 1 || !i.message) {
          badPositions.push(`${i.pos.line}:${i.pos.col} ${i.message.slice(0, 200)}`);
        }
      }
      if (e.issues.length === 0) badPositions.push("no issues");
    } else {
      outcome = "crashed";
      message = e instanceof Error
        ? `${e.name}: ${e.message}\n${e.stack}`.slice(0, 2000)
        : String(e);
    }
  }
  const failed = outcome === "crashed" || badPositions.length > 0;
  return {
    index,
    outcome,
    badPositions,
    message,
    how,
    text: failed ? text.slice(0, 2000) : undefined,
    rss: Deno.memoryUsage().rss,
  };
}

/** The worker's global scope (typed here: the test files are checked with the window lib). */
const scope = self as unknown as {
  onmessage: (
    e: MessageEvent<{ kind?: FuzzKind; seed: number; index: number } | "close">,
  ) => void;
  postMessage(message: unknown): void;
};
scope.onmessage = async (e) => {
  if (e.data === "close") {
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(outside, { recursive: true });
    scope.postMessage("closed");
    return;
  }
  scope.postMessage(await run(e.data.kind ?? "recipe", e.data.seed, e.data.index));
};
scope.postMessage("ready");
