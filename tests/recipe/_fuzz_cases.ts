/**
 * Malformed recipes for the fuzz test, generated from a seed: valid base recipes mutated at the
 * text level (YAML punctuation, deleted/duplicated/swapped lines, indentation, tokens replaced by
 * hostile values, anchors and aliases, NUL bytes, truncation) and a few hostile shapes (deep
 * nesting, long names, alias fans, cycles, large matrices). Same seed → same recipes.
 */
import { Prng } from "../../src/util/prng.ts";

const BASES = [
  `version: 1
name: basics
vars: { photo: photo.png, size: 8, out: basics.png }
seed: 42
steps:
  - id: photo
    use: load
    with: { path: "\${photo}" }
  - id: small
    use: resize
    from: photo
    with: { max_side: "\${size}", filter: bilinear }
  - id: graded
    use: adjust
    from: small
    with: { brightness: 0.03, contrast: 1.1 }
  - id: final
    use: save
    from: graded
    with: { path: "\${out}" }
`,
  `version: 1
matrix:
  content: [photo.png, other.png]
  amount: [0.5, 1]
vars: { stem: "\${content_name}" }
steps:
  - { id: in, use: load, with: { path: "\${content}" } }
  - { id: b, use: blur, from: in, with: { sigma: "\${amount}" } }
  - { id: s, use: save, from: b, with: { path: "\${stem}-\${amount_name}.png" } }
`,
  `version: 1
allow_outside_output: false
steps:
  - { id: a, use: load, with: { path: photo.png } }
  - { id: c, use: crop, from: a, with: { x: 0, y: 0, width: 0.5, height: 0.5, units: fraction } }
  - { id: f, use: flip, from: c, with: { direction: vertical } }
  - { id: r, use: rotate, from: f, with: { angle: 90 } }
  - { id: g, use: grayscale, from: r }
  - { id: m, use: blend, from: { base: r, overlay: g }, with: { mode: overlay, opacity: 0.5 } }
  - { id: o1, use: save, from: m, with: { path: sub/one.png } }
  - { id: o2, use: save, from: o1, with: { path: two.jpg, quality: 80 } }
`,
  `version: 1
engine: cpu
scales: [8, 16]
steps:
  - { id: c, use: load, with: { path: photo.png } }
  - { id: s, use: load, with: { path: other.png } }
  - id: f
    use: extract-features
    from: { content: c, style: [s] }
    with: { content_layers: [relu1_1], style_layers: [relu1_1] }
  - { id: t, use: style-transfer, from: f, with: { iterations: 2 } }
  - { id: o, use: save, from: t, with: { path: styled.png } }
`,
];

const PUNCTUATION = [
  "{",
  "}",
  "[",
  "]",
  ":",
  ",",
  "-",
  "&",
  "*",
  "!",
  "|",
  ">",
  "'",
  '"',
  "#",
  "%",
  "@",
  "`",
  " ",
  "\n",
  "\t",
  "$",
  "${",
  "?",
  "<<",
  "\\",
  "\u0000",
  "\u00e9",
  "\ud83d\ude00",
];
const TOKENS = [
  "load",
  "save",
  "resize",
  "blur",
  "laod",
  "sav",
  "id",
  "use",
  "from",
  "with",
  "steps",
  "vars",
  "matrix",
  "version",
  "plugins",
  "null",
  "~",
  "[]",
  "{}",
  "-1",
  "0",
  "1e999",
  ".nan",
  ".inf",
  "true",
  "yes",
  "2",
  "\${size}",
  "\${nope}",
  "\${photo",
  "$${x}",
  "*a",
  "&a x",
  "!!binary",
  "../escape.png",
  "/etc/passwd",
  "a/../../b.png",
  "x\u0000y.png",
  '"/**"',
  '"../*"',
  "[a, b, c]",
  "{a: 1}",
  "photo.png",
  "missing.png",
  "schedule",
  "scales",
  "'0 * * * *'",
];

/** One generated case: its text and what produced it (for failure messages). */
export interface FuzzCase {
  readonly text: string;
  readonly how: string;
}

/** The `index`-th case of `seed`. */
export function fuzzCase(seed: number, index: number): FuzzCase {
  const rng = new Prng(seed * 100_003 + index);
  const int = (n: number) => rng.nextUint32() % n;
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)];
  if (index % 50 === 49) return hostile(int, pick);
  let text = pick(BASES);
  const how: string[] = [];
  const count = 1 + int(3);
  for (let m = 0; m < count; m++) {
    const lines = text.split("\n");
    const at = int(text.length + 1);
    const line = int(lines.length);
    switch (int(9)) {
      case 0:
        text = text.slice(0, at) + text.slice(at + 1 + int(20));
        how.push(`delete@${at}`);
        break;
      case 1:
        text = text.slice(0, at) + pick(PUNCTUATION) + text.slice(at);
        how.push(`punct@${at}`);
        break;
      case 2:
        lines.splice(line, 0, lines[line]);
        text = lines.join("\n");
        how.push(`dupline${line}`);
        break;
      case 3: {
        const other = int(lines.length);
        [lines[line], lines[other]] = [lines[other], lines[line]];
        text = lines.join("\n");
        how.push(`swap${line},${other}`);
        break;
      }
      case 4:
        lines[line] = int(2) ? "  " + lines[line] : lines[line].replace(/^ {1,2}/, "");
        text = lines.join("\n");
        how.push(`indent${line}`);
        break;
      case 5: {
        const words = [...text.matchAll(/[\w$.{}/-]+/g)];
        if (words.length) {
          const w = pick(words);
          text = text.slice(0, w.index) + pick(TOKENS) + text.slice(w.index! + w[0].length);
          how.push(`token@${w.index}`);
        }
        break;
      }
      case 6:
        text = text.slice(0, at);
        how.push(`truncate@${at}`);
        break;
      case 7:
        lines.splice(
          line,
          0,
          pick([
            "x: &a [1, 2, 3]",
            "  - { id: extra, use: blur, from: extra }",
            "  - { id: loop1, use: blur, from: loop2 }\n  - { id: loop2, use: blur, from: loop1 }",
            'vars: { a: "\${b}", b: "\${a}" }',
            "plugins: [https://example.com/p.ts]",
            "plugins: [./nope.ts]",
            "  - { id: dup, use: save, from: photo, with: { path: basics.png } }",
            "schedule: { cron: 'not a cron' }",
            'matrix: { x: "/**" }',
            "name: ../../victim",
          ]),
        );
        text = lines.join("\n");
        how.push(`insert${line}`);
        break;
      default: {
        const bytes = Array.from({ length: 1 + int(8) }, () => String.fromCharCode(int(128)));
        text = text.slice(0, at) + bytes.join("") + text.slice(at);
        how.push(`bytes@${at}`);
      }
    }
  }
  return { text, how: how.join(" ") };
}

/** A recipe aimed at a resource limit. */
function hostile(int: (n: number) => number, pick: <T>(xs: readonly T[]) => T): FuzzCase {
  const n = 1000 + int(4000);
  const step = `  - { id: p, use: load, with: { path: photo.png } }`;
  const which = int(9);
  const text = [
    () => `version: 1\nvars: { d: ${"[".repeat(n)}${"]".repeat(n)} }\nsteps:\n${step}\n`,
    () => `version: 1\nsteps:\n  - { id: a, use: ${"x".repeat(n * 50)} }\n`,
    () =>
      `version: 1\nvars: { l: &l [${Array.from({ length: 50 }, (_, i) => i).join(",")}] }\n` +
      `matrix: { a: *l, b: *l, c: *l, d: *l }\nsteps:\n${step}\n`,
    () =>
      `version: 1\nsteps:\n` +
      Array.from({ length: n }, (_, i) => `  - { id: s${i}, use: blur, from: s${(i + 1) % n} }`)
        .join("\n") +
      "\n",
    () =>
      `version: 1\nvars:\n  a0: &a0 [x, x, x, x, x, x, x, x]\n` +
      Array.from({ length: 9 }, (_, i) => `  a${i + 1}: &a${i + 1} [${Array(8).fill(`*a${i}`)}]`)
        .join("\n") +
      `\nsteps:\n${step}\n`,
    () =>
      `version: 1\nvars:\n` +
      Array.from({ length: n * 5 }, (_, i) => `  v${i}: "\${v${i + 1}}"`).join("\n") +
      `\n  v${n * 5}: "\${v0}"\nsteps:\n${step}\n`,
    () =>
      `version: 1\nmatrix: { x: ${pick(['"/**"', '"../../**"', '"**/*"'])} }\nsteps:\n${step}\n`,
    () =>
      `version: 1\nsteps:\n${step}\n  - { id: s, use: save, from: p, with: { path: "${
        "d/".repeat(n)
      }x.png" } }\n`,
    () =>
      `version: 1\nsteps:\n` +
      Array.from({ length: n }, (_, i) => `  - { id: step${i}, use: blur, from: stap${i} }`).join(
        "\n",
      ) +
      "\n",
  ][which]();
  return { text, how: `hostile${which}(${n})` };
}
