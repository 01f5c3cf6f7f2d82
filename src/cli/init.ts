/** `init [NAME]`: writes a starter recipe (a commented style transfer) that validates as it is. */
import { basename, dirname, extname, relative, resolve } from "node:path";
import { fileURLToPath as fromFileUrl } from "node:url";
import { atomicWrite } from "../util/atomic_write.ts";
import { pathExists } from "../util/path_exists.ts";
import { parseCommandArgs } from "./args.ts";
import { EXIT, reportError, UsageError } from "./errors.ts";
import { MOD_URL, stylepipeCommand } from "../util/invocation.ts";
import { SCHEMA_PATH } from "./schema.ts";

const HELP = `Usage: deno task init [NAME | FILE.yaml] [--force]

Writes a starter recipe, NAME.yaml (default my-style.yaml) in the current folder: load a photo
and a painting, extract VGG19 features, style transfer, save. Edit its vars: and render it with
  deno task render NAME.yaml
--force replaces an existing file.`;

/**
 * The starter recipe's text; `schemaPath` is the schema as seen from the recipe's folder, `run`
 * the command prefix that starts stylepipe there (e.g. `deno task`).
 */
export function starterRecipe(name: string, schemaPath: string, run = "deno task"): string {
  return `# yaml-language-server: $schema=${schemaPath}
# A starter recipe: the photo in the manner of the painting. Change vars: or override them with
# --set, e.g.  ${run} render ${name}.yaml --set size=384 --set style=the_scream.jpg
# Layers up to relu3_x work with the partial VGG19 weights; the paper's relu4_2 / relu5_1 need the
# full set (${run} weights vgg19). "${run} stages style-transfer" lists every parameter.
version: 1
name: ${name}
vars:
  content: tubingen.jpg
  style: starry_night.jpg
  size: 256
  iterations: 100
  out: ${name}.png
seed: 42
engine: auto
steps:
  - { id: content, use: load, with: { path: "\${content}" } }
  - { id: photo, use: resize, from: content, with: { max_side: "\${size}" } }
  - { id: style, use: load, with: { path: "\${style}" } }
  - id: features
    use: extract-features
    from: { content: photo, style: [style] }
    with: { content_layers: [relu3_2], style_layers: [relu1_1, relu2_1, relu3_1] }
  - { id: transfer, use: style-transfer, from: features, with: { iterations: "\${iterations}" } }
  - { id: final, use: save, from: transfer, with: { path: "\${out}" } }
`;
}

/** Runs the `init` command; returns the exit code. */
export async function initCommand(args: string[]): Promise<number> {
  try {
    const { values, positionals } = parseCommandArgs("init", args, {
      force: { type: "boolean" },
    });
    if (values.help) {
      console.log(HELP);
      return EXIT.ok;
    }
    if (positionals.length > 1) {
      throw new UsageError(`init: expected at most one name, got ${positionals.length}`);
    }
    const given = positionals[0] ?? "my-style";
    const file = extname(given) === ".yaml" || extname(given) === ".yml" ? given : `${given}.yaml`;
    const name = basename(file, extname(file));
    if (!/^[A-Za-z0-9][\w.-]*$/.test(name)) {
      throw new UsageError(`init: "${name}" is not a recipe name (letters, digits, ".", "_", "-")`);
    }
    if (!values.force && await pathExists(file)) {
      throw new UsageError(`init: ${file} exists; pass --force to replace it`);
    }
    const schema = new URL(`./${SCHEMA_PATH}`, MOD_URL);
    const schemaPath = schema.protocol === "file:"
      ? relative(dirname(resolve(file)), fromFileUrl(schema)).replaceAll("\\", "/")
      : schema.href;
    const run = stylepipeCommand();
    await atomicWrite(file, starterRecipe(name, schemaPath, run));
    console.log(`wrote ${file}; render it with: ${run} render ${file}`);
    return EXIT.ok;
  } catch (e) {
    return reportError(e, { debug: args.includes("--debug"), json: false });
  }
}
