/**
 * Fuzz cases for the other doors into the recipe loader (issue 22): `--set` values, farm job
 * payloads and the page's POST /api/renders bodies, generated from a seed (same seed → same cases).
 * Each mixes valid values with hostile ones: aliases and cycles, deep nesting, expansion chains,
 * control bytes, wrong types, paths outside the roots, tampered signatures.
 */
import { Prng } from "../../src/util/prng.ts";

/** Hostile and ordinary `--set` values (the part after `name=`). */
const SET_VALUES = [
  "8",
  "16",
  "photo.png",
  "other.png",
  "&a [*a]",
  "&a {x: *a}",
  "*nope",
  "&a [x, x, x, x, x, x, x, x, x, x]",
  "[" + "[".repeat(200) + "]".repeat(200) + "]",
  '"${size}${size}${size}${size}${size}${size}${size}${size}${size}${size}"',
  '["${out}", "${out}", "${out}", "${out}", "${out}", "${out}", "${out}", "${out}"]',
  "${photo}",
  "/etc/passwd",
  "../../../../etc/passwd",
  "\u001b[2J\u0007",
  "1e308",
  "-1",
  "4294967296",
  "null",
  "~",
  "{ a: 1 }",
  "[1, 2",
  "'unterminated",
  "\u0000",
  "x".repeat(5000),
  "!!binary aGVsbG8=",
  "!!js/function 'return 1'",
  "? complex\n: key",
  "&a [&b [&c [*a]]]",
];

/** The variable names the fuzzed recipe has, and some it has not. */
const SET_NAMES = ["size", "photo", "out", "size", "photo", "nope", "", "a=b", "x".repeat(300)];

/** `--set` arguments for the basics recipe (vars photo, size, out). */
export function fuzzSets(seed: number, index: number): { sets: string[]; how: string } {
  const rng = new Prng(seed * 7_919 + index);
  const int = (n: number) => rng.nextUint32() % n;
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)];
  const sets: string[] = [];
  for (let i = 0, n = 1 + int(3); i < n; i++) {
    let value = pick(SET_VALUES);
    if (int(4) === 0) value = value.slice(0, int(value.length + 1)); // cut short
    if (int(6) === 0) value = `&z ${value}`;
    sets.push(`${pick(SET_NAMES)}${int(20) ? "=" : ""}${value}`);
  }
  // Some laughs: an alias fan grown to 10^k values.
  if (index % 25 === 24) {
    const k = 4 + int(6);
    const fans = ["&a0 [x, x, x, x, x, x, x, x, x, x]"];
    for (let i = 1; i < k; i++) fans.push(`&a${i} [${Array(10).fill(`*a${i - 1}`)}]`);
    sets.push(`size=[${fans.join(", ")}]`);
  }
  return { sets, how: sets.map((s) => JSON.stringify(s.slice(0, 60))).join(" ") };
}

/** How a fuzzed job is signed. */
export type Signing = "signed" | "unsigned" | "tampered";

/** A farm job payload (a valid one mutated), and how it is to be signed. */
export function fuzzJob(
  seed: number,
  index: number,
  paths: { readonly recipe: string; readonly outDir: string; readonly outside: string },
): { data: unknown; signing: Signing; how: string } {
  const rng = new Prng(seed * 104_729 + index);
  const int = (n: number) => rng.nextUint32() % n;
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)];
  const data: Record<string, unknown> = {
    kind: pick(["render", "scheduled"]),
    recipe: paths.recipe,
    sets: [],
    imageDirs: [],
    outDir: paths.outDir,
  };
  const how: string[] = [];
  for (let m = 0, n = int(4); m < n; m++) {
    const field = pick(["kind", "recipe", "sets", "imageDirs", "outDir", "engine", "output", "x"]);
    const value = pick<unknown>([
      undefined,
      null,
      5,
      "",
      [],
      {},
      "render",
      "scheduled",
      paths.outside,
      `${paths.outside}/r.yaml`,
      "/etc/passwd",
      `${paths.outDir}/../../escape`,
      fuzzSets(seed, index * 31 + m).sets,
      Array(2000).fill("x"),
      "x".repeat(10_000),
      ["size=&a [*a]"],
      [`photo=${paths.outside}/private.png`],
    ]);
    data[field] = value;
    how.push(`${field}=${JSON.stringify(value)?.slice(0, 40)}`);
  }
  const signing = pick<Signing>(["signed", "signed", "unsigned", "tampered"]);
  return { data, signing, how: `${signing} ${how.join(" ")}` };
}

/** A POST /api/renders body (JSON text, often mutated past JSON). */
export function fuzzBody(seed: number, index: number): { body: string; how: string } {
  const rng = new Prng(seed * 15_485_863 + index);
  const int = (n: number) => rng.nextUint32() % n;
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)];
  const { sets } = fuzzSets(seed, index);
  const recipe = pick<unknown>(["basics.yaml", "../basics.yaml", "/etc/passwd", 5, null, "nope"]);
  let body = JSON.stringify(pick<unknown>([
    { recipe, sets },
    { recipe, sets: sets.join(",") },
    { recipe: "basics.yaml", sets: [...sets, 5, null, { size: 1 }] },
    [recipe, sets],
    "basics.yaml",
    { recipe: "basics.yaml", sets: Array(3000).fill("size=8") },
  ]));
  if (int(4) === 0) {
    const at = int(body.length + 1);
    body = body.slice(0, at) + pick(["", "{", "]", '"', "\\u0000", "\u001b"]) + body.slice(at + 1);
  }
  return { body, how: body.slice(0, 120) };
}
