/** The known downloadable models (weights/catalog.json): where to get them and their published hash. */
import { z } from "npm:zod@4.6.7";
import catalogJson from "../../../weights/catalog.json" with { type: "json" };

const entrySchema = z.object({
  arch: z.enum(["vgg19", "vgg16"]),
  file: z.string(),
  urls: z.array(z.url()).min(1),
  md5: z.string().regex(/^[0-9a-f]{32}$/),
  bytes: z.number().int().positive(),
  hashSource: z.string(),
  license: z.string(),
});

/** One downloadable model: a Keras "notop" `.h5` file, its mirrors and its published MD5. */
export type CatalogEntry = z.infer<typeof entrySchema>;

/** Model name (the folder name under a weights folder) → where to download it. */
export const weightsCatalog: Readonly<Record<string, CatalogEntry>> = z
  .record(z.string(), entrySchema)
  .parse(catalogJson);
