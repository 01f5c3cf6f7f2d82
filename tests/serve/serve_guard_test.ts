/**
 * The studio refuses what a hostile page or caller sends (issue 22 §5, issue 23): wrong Host (DNS
 * rebinding), foreign Origin, non-JSON POSTs, paths out of the recipe, image and output folders
 * (`..`, absolute, symbolic links), `--set` values naming files, uploads over the pixel limit, and,
 * bound beyond loopback, any API call or event stream without the token. Real HTTP on loopback.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import sharp from "sharp";
import { startStudio, type StudioServer } from "./_studio.ts";

/** One HTTP/1.1 request written by hand (so Host and Origin are exactly what a test says). */
async function raw(
  server: StudioServer,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body = "",
): Promise<{ status: number; body: string }> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
  const all = { host: `127.0.0.1:${server.port}`, connection: "close", ...headers };
  const bytes = new TextEncoder().encode(body);
  const head = `${method} ${path} HTTP/1.1\r\n` +
    Object.entries(all).map(([k, v]) => `${k}: ${v}\r\n`).join("") +
    (body ? `content-length: ${bytes.length}\r\n` : "") + "\r\n";
  await conn.write(new TextEncoder().encode(head));
  if (body) await conn.write(bytes);
  const text = await new Response(conn.readable).text();
  const status = Number(text.match(/^HTTP\/1\.1 (\d+)/)?.[1]);
  return { status, body: text.slice(text.indexOf("\r\n\r\n") + 4) };
}

const JSON_TYPE = { "content-type": "application/json" };

Deno.test("studio guard: foreign Host, foreign Origin and non-JSON POSTs are refused", async () => {
  const server = await startStudio();
  try {
    const start = JSON.stringify({ recipe: "conv3.yaml", sets: ["size=16"] });
    // The attack: a text/plain POST from another site, with its Host.
    const plain = await raw(server, "POST", "/api/renders", {
      "content-type": "text/plain",
      origin: "http://attacker.example",
    }, start);
    assert.equal(plain.status, 403);
    assert.equal(
      (await raw(server, "POST", "/api/renders", { "content-type": "text/plain" }, start)).status,
      415,
    );
    assert.equal(
      (await raw(server, "POST", "/api/renders", { ...JSON_TYPE, origin: "null" }, start)).status,
      403,
    );
    // DNS rebinding: the attacker's name resolving to 127.0.0.1.
    for (const host of ["attacker.example", `attacker.example:${server.port}`, "127.0.0.1:1"]) {
      const r = await raw(server, "GET", "/api/outputs", { host });
      assert.equal(r.status, 421, host);
    }
    assert.equal((await raw(server, "GET", "/", { host: "attacker.example" })).status, 421);
    // The page's own requests pass: same-origin, localhost or 127.0.0.1.
    const origin = `http://127.0.0.1:${server.port}`;
    assert.equal((await raw(server, "GET", "/api/recipes", { origin })).status, 200);
    assert.equal(
      (await raw(server, "GET", "/api/info", { host: `localhost:${server.port}` })).status,
      200,
    );
    assert.equal(server.jobs.list().length, 0, "no render was started");
  } finally {
    await server.stop();
  }
});

Deno.test("studio guard: paths out of the recipe, image and output folders are refused", async () => {
  const server = await startStudio();
  const outside = await Deno.makeTempDir({ prefix: "stylepipe-private-" });
  try {
    const privateImage = join(outside, "private.png");
    await sharp({ create: { width: 4, height: 4, channels: 3, background: "#f00" } }).png()
      .toFile(privateImage);
    await Deno.writeTextFile(join(outside, "secret.yaml"), "version: 1\nsteps: []\n");
    const { folders } = server;
    await Deno.symlink(privateImage, join(folders.outDir, "leak.png"));
    await Deno.symlink(privateImage, join(folders.uploadsDir, "linked.png"));
    await Deno.symlink(join(outside, "secret.yaml"), join(folders.recipesDir, "linked.yaml"));
    await Deno.symlink(outside, join(folders.recipesDir, "escape.yaml"));
    const post = (path: string, body: unknown) =>
      raw(server, "POST", path, JSON_TYPE, JSON.stringify(body));

    // Output files: .., encoded .., absolute, a link out.
    for (
      const path of [
        "/api/outputs/..%2F..%2Fetc%2Fpasswd",
        "/api/outputs/%2Fetc%2Fpasswd",
        `/api/outputs/${encodeURIComponent(privateImage)}`,
        "/api/outputs/leak.png",
        "/api/records/..%2Fout%2F..%2F..%2Fetc%2Fpasswd",
      ]
    ) {
      assert.equal((await raw(server, "GET", path)).status, 404, path);
    }
    // Images of the lookup folders: .., absolute, a link out.
    for (const name of ["..%2F..%2Fetc%2Fpasswd", encodeURIComponent(privateImage), "linked.png"]) {
      const r = await raw(server, "GET", `/api/images/${name}`);
      assert.equal(r.status, 400, name);
    }
    // Recipes: by plain name only, never through a link out.
    for (const recipe of ["../secret.yaml", privateImage, "linked.yaml", "escape.yaml"]) {
      assert.equal((await post("/api/renders", { recipe, sets: [] })).status, 400, recipe);
    }
    // --set values naming files: relative, absolute, nested YAML.
    for (
      const set of [
        `content=${privateImage}`,
        "content=../../private.png",
        `style=[${privateImage}]`,
        "out=../escaped.png",
      ]
    ) {
      const r = await post("/api/renders", { recipe: "conv3.yaml", sets: [set, "size=16"] });
      assert.equal(r.status, 400, set);
      assert.match(r.body, /may not be a path/);
    }
    // Save as: only a plain name in the recipes folder, never over a link.
    for (
      const name of ["../evil.yaml", join(outside, "evil.yaml"), ".hidden.yaml", "linked.yaml"]
    ) {
      const r = await post("/api/recipes", { name, text: "version: 1\n", overwrite: true });
      assert.equal(r.status, 400, name);
    }
    // A recipe saved through the page that reads an image outside the folders cannot start.
    const reads =
      `version: 1\nsteps:\n  - { id: a, use: load, with: { path: "${privateImage}" } }\n` +
      `  - { id: b, use: save, from: a, with: { path: x.png } }\n`;
    assert.equal((await post("/api/recipes", { name: "reads.yaml", text: reads })).status, 201);
    const started = await post("/api/renders", { recipe: "reads.yaml", sets: [] });
    assert.equal(started.status, 400);
    assert.match(started.body, /outside the recipe's folder and the lookup folders/);
    // Uploads: a plain image name only.
    const data = (await Deno.readFile(privateImage)).toBase64?.() ??
      btoa(String.fromCharCode(...await Deno.readFile(privateImage)));
    for (const name of ["../x.png", "/tmp/x.png", "x.yaml", "linked.png"]) {
      assert.equal((await post("/api/images", { name, data })).status, 400, name);
    }
    assert.equal(server.jobs.list().length, 0, "no render was started");
    assert.deepEqual(
      [...Deno.readDirSync(outside)].map((e) => e.name).sort(),
      ["private.png", "secret.yaml"],
      "nothing was written outside",
    );
  } finally {
    await server.stop();
    await Deno.remove(outside, { recursive: true });
  }
});

Deno.test("studio guard: uploads over the pixel limit are refused; a small one is listed", async () => {
  const server = await startStudio();
  const before = Deno.env.get("STYLEPIPE_MAX_MEGAPIXELS");
  Deno.env.set("STYLEPIPE_MAX_MEGAPIXELS", "0.01");
  try {
    const png = async (side: number) =>
      btoa(String.fromCharCode(
        ...await sharp({ create: { width: side, height: side, channels: 3, background: "#0f0" } })
          .png().toBuffer(),
      ));
    const post = (body: unknown) =>
      raw(server, "POST", "/api/images", JSON_TYPE, JSON.stringify(body));
    const big = await post({ name: "big.png", data: await png(200) });
    assert.equal(big.status, 400);
    assert.match(big.body, /200×200 = 0\.0 megapixels, over the limit of 0\.01/);
    const small = await post({ name: "small.png", data: await png(50) });
    assert.equal(small.status, 201);
    const listed = JSON.parse((await raw(server, "GET", "/api/images")).body);
    assert.ok(listed.some((i: { name: string }) => i.name === "small.png"));
    assert.ok(!listed.some((i: { name: string }) => i.name === "big.png"));
  } finally {
    if (before === undefined) Deno.env.delete("STYLEPIPE_MAX_MEGAPIXELS");
    else Deno.env.set("STYLEPIPE_MAX_MEGAPIXELS", before);
    await server.stop();
  }
});

Deno.test("studio guard: bound beyond loopback, the API and event streams need the token", async () => {
  const token = "0123456789abcdef0123456789abcdef";
  const server = await startStudio({ boundHost: "0.0.0.0", token });
  try {
    assert.equal((await raw(server, "GET", "/")).status, 200, "the page itself is public");
    for (const path of ["/api/recipes", "/api/outputs", "/api/renders", "/api/renders/r1/events"]) {
      assert.equal((await raw(server, "GET", path)).status, 401, path);
      assert.equal((await raw(server, "GET", `${path}?token=wrong`)).status, 401, path);
    }
    const start = JSON.stringify({ recipe: "conv3.yaml", sets: ["size=16"] });
    assert.equal((await raw(server, "POST", "/api/renders", JSON_TYPE, start)).status, 401);
    assert.equal(
      (await raw(
        server,
        "POST",
        "/api/renders",
        { ...JSON_TYPE, authorization: "Bearer nope" },
        start,
      ))
        .status,
      401,
    );
    assert.equal(server.jobs.list().length, 0);
    assert.equal((await raw(server, "GET", `/api/recipes?token=${token}`)).status, 200);
    assert.equal(
      (await raw(server, "GET", "/api/recipes", { authorization: `Bearer ${token}` })).status,
      200,
    );
    // Bound to every address, any Host is accepted (the token is what protects).
    assert.equal(
      (await raw(server, "GET", `/api/info?token=${token}`, { host: `studio.lan:${server.port}` }))
        .status,
      200,
    );
  } finally {
    await server.stop();
  }
});
