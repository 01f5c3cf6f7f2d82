/** `--map FROM=TO`: longest prefix, whole path components only, both sides absolute. */
import assert from "node:assert/strict";
import { mapPath, mapRef, parsePathMaps, PathMapError } from "../../src/farm/path_map.ts";

Deno.test("--map rewrites by the longest matching prefix, on whole components", () => {
  const maps = parsePathMaps(["/mnt/share=/srv/share", "/mnt/share/out/=/fast/out", "/=/root"]);
  assert.equal(mapPath("/mnt/share/r.yaml", maps), "/srv/share/r.yaml");
  assert.equal(mapPath("/mnt/share/out/a.png", maps), "/fast/out/a.png");
  assert.equal(mapPath("/mnt/share", maps), "/srv/share");
  assert.equal(mapPath("/mnt/shared/x", maps), "/root/mnt/shared/x"); // not under /mnt/share
  assert.equal(mapPath("/mnt/share/../../etc/passwd", maps), "/root/etc/passwd"); // normalized first
  assert.equal(mapPath("/x", []), "/x");
  const ref = mapRef({
    recipe: "/mnt/share/r.yaml",
    sets: ["photo=/mnt/share/p.png"],
    imageDirs: ["/mnt/share/img"],
    outDir: "/mnt/share/out",
  }, maps);
  assert.deepEqual(ref, {
    recipe: "/srv/share/r.yaml",
    sets: ["photo=/mnt/share/p.png"], // values are not paths to the loader: left as written
    imageDirs: ["/srv/share/img"],
    outDir: "/fast/out",
  });
  for (const bad of ["relative=/x", "/x=relative", "/x", "=/x"]) {
    assert.throws(() => parsePathMaps([bad]), PathMapError);
  }
});
