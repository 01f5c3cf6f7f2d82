/**
 * Runs fuzz cases for fuzz_test.ts in a worker (so the test can stop a case that hangs): each
 * case is loaded with every extension the CLI uses and planned; the answer says whether it was
 * accepted, rejected with positioned issues, or crashed.
 */
import { join } from "node:path";
import { createImage } from "../../src/image/image.ts";
import { encodePng } from "../../src/image/codecs.ts";
import { planRecipe } from "../../src/pipeline/plan.ts";
import { scheduleExtension } from "../../src/pipeline/schedule.ts";
import { RecipeError } from "../../src/recipe/errors.ts";
import { parseRecipe } from "../../src/recipe/load.ts";
import { matrixExtension } from "../../src/recipe/matrix.ts";
import { scalesExtension } from "../../src/recipe/scales.ts";
import { builtinStages } from "../../src/stages/builtin.ts";
import { fuzzCase } from "./_fuzz_cases.ts";

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

async function run(seed: number, index: number): Promise<FuzzAnswer> {
  const { text, how } = fuzzCase(seed, index);
  const file = join(dir, "recipe.yaml");
  const lines = text.split("\n").length;
  let outcome: FuzzAnswer["outcome"];
  let message: string | undefined;
  const badPositions: string[] = [];
  try {
    const recipe = await parseRecipe(text, file, {
      registry: builtinStages(),
      extensions,
      weightsDirs: [],
      plugins: "refuse",
    });
    await planRecipe(recipe, {
      outDir: join(dir, "out"),
      imageDirs: [],
      weightsDirs: [],
      resolveEngine: (name) => Promise.resolve(name === "auto" ? "cpu" : name),
    });
    outcome = "accepted";
  } catch (e) {
    if (e instanceof RecipeError) {
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
  onmessage: (e: MessageEvent<{ seed: number; index: number } | "close">) => void;
  postMessage(message: unknown): void;
};
scope.onmessage = async (e) => {
  if (e.data === "close") {
    await Deno.remove(dir, { recursive: true });
    scope.postMessage("closed");
    return;
  }
  scope.postMessage(await run(e.data.seed, e.data.index));
};
scope.postMessage("ready");
