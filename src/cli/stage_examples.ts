/**
 * A short recipe fragment per built-in stage, shown by `deno task stages NAME`. Each is a step as
 * it appears under `steps:`; the steps it reads from are named `photo`, `painting`, `features`
 * and so on. A test validates every example inside a small recipe, so they stay correct.
 */

/** The YAML example of each built-in stage, by stage name. */
export const STAGE_EXAMPLES: Readonly<Record<string, string>> = {
  load: `- { id: photo, use: load, with: { path: tubingen.jpg } }`,
  save: `- { id: final, use: save, from: photo, with: { path: result.png } }`,
  resize: `- { id: small, use: resize, from: photo, with: { max_side: 512, filter: lanczos3 } }`,
  crop: `- { id: square, use: crop, from: photo, with: { width: 256, height: 256 } }`,
  flip: `- { id: mirrored, use: flip, from: photo, with: { direction: horizontal } }`,
  rotate: `- { id: turned, use: rotate, from: photo, with: { angle: 90 } }`,
  blur: `- { id: soft, use: blur, from: photo, with: { sigma: 2 } }`,
  adjust: `- { id: brighter, use: adjust, from: photo, with: { brightness: 0.1, contrast: 1.2 } }`,
  grayscale: `- { id: grey, use: grayscale, from: photo }`,
  luminance: `- { id: luma, use: luminance, from: { image: painting, reference: photo } }`,
  blend:
    `- { id: mix, use: blend, from: { base: photo, overlay: painting }, with: { opacity: 0.5 } }`,
  "color-match": `- { id: matched, use: color-match, from: { style: painting, content: photo } }`,
  "color-preserve":
    `- { id: kept, use: color-preserve, from: { styled: transfer, content: photo } }`,
  "extract-features": `- id: features
  use: extract-features
  from: { content: photo, style: [painting] }
  with: { content_layers: [relu3_2], style_layers: [relu1_1, relu2_1, relu3_1] }`,
  "style-transfer":
    `- { id: transfer, use: style-transfer, from: features, with: { iterations: 100 } }`,
  "contact-sheet":
    `- { id: sheet, use: contact-sheet, from: { images: [photo, painting] }, with: { cell: 256 } }`,
  upscale: `- id: larger
  use: upscale
  from: { image: transfer, features: features, content: photo, style: [painting] }
  with: { size: 512, iterations: 40 }`,
};
