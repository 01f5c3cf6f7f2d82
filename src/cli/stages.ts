/** `stages`: every stage with its inputs, output and parameters (types, defaults, descriptions). */
import { paramsJsonSchema } from "../recipe/params.ts";
import { builtinStages } from "../stages/builtin.ts";
import type { StageRegistry } from "../stages/registry.ts";
import type { Stage } from "../stages/stage.ts";
import { parseCommandArgs } from "./args.ts";
import { EXIT, reportError } from "./errors.ts";
import { table } from "./progress.ts";
import { STAGE_EXAMPLES } from "./stage_examples.ts";
import { didYouMean } from "../recipe/suggest.ts";
import { UsageError } from "./errors.ts";

const HELP = `Usage: deno task stages [NAME] [--markdown | --json]

Lists every built-in stage: inputs, output and parameters with types and defaults.
With NAME, shows that stage alone with an example step.
--markdown prints the README's stage reference.`;

/** One parameter as listed. */
export interface ParamInfo {
  readonly name: string;
  readonly type: string;
  readonly required: boolean;
  readonly default?: unknown;
  readonly description?: string;
}

/** The parameters of a stage, from its JSON Schema. */
export function paramInfo(stage: Stage<unknown>): ParamInfo[] {
  const schema = paramsJsonSchema(stage);
  const props = (schema.properties ?? {}) as Record<string, Record<string, unknown>>;
  const required = new Set((schema.required ?? []) as string[]);
  return Object.entries(props).map(([name, p]) => ({
    name,
    type: typeName(p),
    required: required.has(name) && p.default === undefined,
    default: p.default,
    description: p.description as string | undefined,
  }));
}

function typeName(p: Record<string, unknown>): string {
  if (Array.isArray(p.enum)) return p.enum.map((v) => JSON.stringify(v)).join(" \\| ");
  if (p.const !== undefined) return JSON.stringify(p.const);
  const alts = (p.anyOf ?? p.oneOf) as Record<string, unknown>[] | undefined;
  if (alts) return alts.map(typeName).join(" \\| ");
  if (p.type === "array") return `${typeName((p.items ?? {}) as Record<string, unknown>)}[]`;
  // zod writes ±MAX_SAFE_INTEGER as the bounds of an int without them: not a range to show.
  const bound = (v: unknown) =>
    typeof v === "number" && Math.abs(v) < Number.MAX_SAFE_INTEGER ? v : undefined;
  const [min, xmin, max, xmax] = [p.minimum, p.exclusiveMinimum, p.maximum, p.exclusiveMaximum]
    .map(bound);
  const range = [
    min !== undefined ? `≥ ${min}` : xmin !== undefined ? `> ${xmin}` : "",
    max !== undefined ? `≤ ${max}` : xmax !== undefined ? `< ${xmax}` : "",
  ].filter(Boolean).join(", ");
  const base = Array.isArray(p.type)
    ? p.type.join(" \\| ")
    : (p.type as string | undefined) ?? "any";
  return range ? `${base} (${range})` : base;
}

function inputsText(stage: Stage<unknown>): string {
  const entries = Object.entries(stage.inputs);
  if (!entries.length) return "none";
  return entries.map(([name, spec]) => {
    const kind = typeof spec.kind === "string" ? spec.kind : spec.kind.join("|");
    return `${name}: ${kind}${spec.many ? "[]" : ""}${spec.optional ? " (optional)" : ""}`;
  }).join(", ");
}

/** The stage reference as Markdown (used for the README). */
export function stagesMarkdown(registry: StageRegistry): string {
  const out: string[] = [];
  for (const s of registry.all()) {
    out.push(`### \`${s.name}\``, "", s.description, "");
    out.push(`Inputs: ${inputsText(s)}. Output: ${s.output}.`, "");
    const params = paramInfo(s);
    if (params.length) {
      out.push("| parameter | type | default | description |", "|---|---|---|---|");
      for (const p of params) {
        const def = p.required
          ? "**required**"
          : p.default === undefined
          ? ""
          : `\`${JSON.stringify(p.default)}\``;
        out.push(
          `| \`${p.name}\` | ${p.type} | ${def} | ${(p.description ?? "").replace(/\|/g, "\\|")} |`,
        );
      }
      out.push("");
    }
  }
  return out.join("\n");
}

/** A stage's header, inputs and parameter table, as `stages` prints it. */
function stageSummary(s: Stage<unknown>): string {
  const lines = [`${s.name} (v${s.version}): ${s.description}`];
  lines.push(`  inputs: ${inputsText(s)}; output: ${s.output}`);
  const rows = paramInfo(s).map((p) => [
    p.name,
    p.type.replace(/ \\\| /g, " | "),
    p.required ? "required" : p.default === undefined ? "" : JSON.stringify(p.default),
    p.description ?? "",
  ]);
  if (rows.length) {
    lines.push(table(["parameter", "type", "default", "description"], rows).replace(/^/gm, "    "));
  }
  return lines.join("\n");
}

/** One stage with its example step; a {@link UsageError} with a did-you-mean for an unknown name. */
export function stageText(registry: StageRegistry, name: string): string {
  const stage = registry.get(name);
  if (!stage) {
    const names = registry.all().map((s) => s.name);
    throw new UsageError(
      `stages: unknown stage "${name}"${didYouMean(name, names)}; stages: ${names.join(", ")}`,
    );
  }
  const example = STAGE_EXAMPLES[stage.name];
  return stageSummary(stage) +
    (example ? `\n\n  example (under steps:):\n${example.replace(/^/gm, "    ")}` : "");
}

/** Runs the `stages` command; returns the exit code. */
export function stagesCommand(args: string[]): Promise<number> {
  try {
    const { values, positionals } = parseCommandArgs("stages", args, {
      markdown: { type: "boolean" },
    });
    if (values.help) {
      console.log(HELP);
      return Promise.resolve(EXIT.ok);
    }
    const registry = builtinStages();
    if (positionals.length > 1) {
      throw new UsageError(`stages: expected at most one stage name, got ${positionals.length}`);
    }
    if (positionals.length === 1) {
      console.log(stageText(registry, positionals[0]));
      return Promise.resolve(EXIT.ok);
    }
    if (values.markdown) console.log(stagesMarkdown(registry));
    else if (values.json) {
      console.log(JSON.stringify(
        registry.all().map((s) => ({
          name: s.name,
          version: s.version,
          description: s.description,
          inputs: s.inputs,
          output: s.output,
          params: paramInfo(s),
        })),
      ));
    } else {
      for (const s of registry.all()) console.log(stageSummary(s) + "\n");
    }
    return Promise.resolve(EXIT.ok);
  } catch (e) {
    return Promise.resolve(reportError(e, { debug: args.includes("--debug"), json: false }));
  }
}
