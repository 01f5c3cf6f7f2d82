/** The built-in stages. */
import { adjustStage } from "./adjust.ts";
import { blendStage } from "./blend.ts";
import { blurStage } from "./blur.ts";
import { colorMatchStage } from "./color_match.ts";
import { colorPreserveStage } from "./color_preserve.ts";
import { contactSheetStage } from "./contact_sheet.ts";
import { cropStage } from "./crop.ts";
import { extractFeaturesStage } from "./extract_features.ts";
import { flipStage } from "./flip.ts";
import { grayscaleStage } from "./grayscale.ts";
import { loadStage } from "./load.ts";
import { luminanceStage } from "./luminance.ts";
import { resizeStage } from "./resize.ts";
import { rotateStage } from "./rotate.ts";
import { saveStage } from "./save.ts";
import { StageRegistry } from "./registry.ts";
import { styleTransferStage } from "./style_transfer.ts";
import { upscaleStage } from "./upscale.ts";

/** A new registry holding every built-in stage. */
export function builtinStages(): StageRegistry {
  const registry = new StageRegistry();
  for (
    const stage of [
      loadStage,
      saveStage,
      resizeStage,
      cropStage,
      rotateStage,
      flipStage,
      blurStage,
      adjustStage,
      grayscaleStage,
      blendStage,
      luminanceStage,
      extractFeaturesStage,
      styleTransferStage,
      upscaleStage,
      colorPreserveStage,
      colorMatchStage,
      contactSheetStage,
    ]
  ) registry.register(stage);
  return registry;
}
