/** `stages`: every stage with its inputs, output and parameters (types, defaults, descriptions). */
import { paramsJsonSchema } from "../recipe/params.ts";
import { builtinStages } from "../stages/builtin.ts";
import type { StageRegistry } from "../stages/registry.ts";
import type { Stage } from "../stages/stage.ts";
import { parseCommandArgs } from "./args.ts";
import { EXIT, reportError } from "./errors.ts";
import { table } from "./progress.ts";

const HELP = `Usage: deno task stages [--markdown | --json]

Lists every built-in stage: inputs, output and parameters with types and defaults.
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
  const range = [
    p.minimum !== undefined
      ? `≥ ${p.minimum}`
      : p.exclusiveMinimum !== undefined
      ? `> ${p.exclusiveMinimum}`
      : "",
    p.maximum !== undefined
      ? `≤ ${p.maximum}`
      : p.exclusiveMaximum !== undefined
      ? `< ${p.exclusiveMaximum}`
      : "",
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

/** Runs the `stages` command; returns the exit code. */
export function stagesCommand(args: string[]): Promise<number> {
  try {
    const { values } = parseCommandArgs("stages", args, { markdown: { type: "boolean" } });
    if (values.help) {
      console.log(HELP);
      return Promise.resolve(EXIT.ok);
    }
    const registry = builtinStages();
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
      for (const s of registry.all()) {
        console.log(`${s.name} (v${s.version}): ${s.description}`);
        console.log(`  inputs: ${inputsText(s)}; output: ${s.output}`);
        const rows = paramInfo(s).map((p) => [
          p.name,
          p.type.replace(/ \\\| /g, " | "),
          p.required ? "required" : p.default === undefined ? "" : JSON.stringify(p.default),
          p.description ?? "",
        ]);
        if (rows.length) {
          console.log(
            table(["parameter", "type", "default", "description"], rows).replace(/^/gm, "    "),
          );
        }
        console.log();
      }
    }
    return Promise.resolve(EXIT.ok);
  } catch (e) {
    return Promise.resolve(reportError(e, { debug: args.includes("--debug"), json: false }));
  }
}
