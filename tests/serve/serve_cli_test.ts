/**
 * `deno task serve` itself: a busy port is named with --port suggested; bound beyond loopback it
 * prints an address with a new token and refuses API calls without it (requests go to 127.0.0.1).
 */
import assert from "node:assert/strict";

Deno.test("serve: a busy port is named, with --port suggested", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const outDir = await Deno.makeTempDir({ prefix: "stylepipe-serve-busy-" });
  try {
    const port = (listener.addr as Deno.NetAddr).port;
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        ...["run", "-A", "--deny-import", "mod.ts", "serve", "--port", String(port)],
        ...["--out-dir", outDir], // not the repository's out/
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 2, stderr);
    assert.match(stderr, new RegExp(`port ${port} on 127\\.0\\.0\\.1 is already in use`));
    assert.match(stderr, /--port/);
  } finally {
    listener.close();
    await Deno.remove(outDir, { recursive: true });
  }
});

Deno.test({
  name: "serve --host 0.0.0.0: a token is generated, printed, and required",
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "stylepipe-serve-cli-" });
    const server = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "--deny-import",
        "mod.ts",
        "serve",
        "--host",
        "0.0.0.0",
        "--port",
        "0",
        "--out-dir",
        dir,
      ],
      stdout: "piped",
      stderr: "null",
    }).spawn();
    try {
      const reader = server.stdout.pipeThrough(new TextDecoderStream()).getReader();
      let text = "";
      while (!/\n/.test(text)) text += (await reader.read()).value ?? "";
      const m = text.match(/^serving http:\/\/0\.0\.0\.0:(\d+)\/\?token=([0-9a-f]{32})$/m);
      assert.ok(m, text);
      const [, port, token] = m;
      const base = `http://127.0.0.1:${port}/api/info`;
      const refused = await fetch(base);
      assert.equal(refused.status, 401);
      await refused.body?.cancel();
      const allowed = await fetch(`${base}?token=${token}`);
      assert.equal(allowed.status, 200);
      assert.equal((await allowed.json()).farm, false);
      reader.releaseLock();
    } finally {
      server.kill("SIGTERM");
      await server.status;
      await server.stdout.cancel().catch(() => {});
      await Deno.remove(dir, { recursive: true });
    }
  },
});
