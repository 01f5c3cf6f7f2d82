/**
 * `--ca-file` against a real redis-server speaking TLS with a certificate from a private CA (made
 * here with openssl): the queue is reachable with the CA, and refused without it (the certificate
 * is still verified).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { redisOptionsArg } from "../../src/cli/farm_args.ts";
import { openQueue } from "../../src/farm/connection.ts";
import { hasRedis } from "./_redis.ts";

const hasOpenssl = await new Deno.Command("openssl", { args: ["version"] }).output()
  .then((o) => o.success, () => false);

async function openssl(dir: string, ...args: string[]): Promise<void> {
  const out = await new Deno.Command("openssl", { args, cwd: dir }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
}

Deno.test({
  name: "rediss:// with a private CA: reachable with --ca-file, refused without",
  ignore: !hasRedis || !hasOpenssl,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "stylepipe-tls-" });
    const subj = (cn: string) => ["-subj", `/CN=${cn}`];
    await openssl(
      dir,
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      "ca.key",
      "-out",
      "ca.pem",
      "-days",
      "1",
      ...subj("stylepipe test CA"),
    );
    await openssl(
      dir,
      "req",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      "server.key",
      "-out",
      "server.csr",
      ...subj("127.0.0.1"),
    );
    await Deno.writeTextFile(join(dir, "ext.cnf"), "subjectAltName=IP:127.0.0.1\n");
    await openssl(
      dir,
      "x509",
      "-req",
      "-in",
      "server.csr",
      "-CA",
      "ca.pem",
      "-CAkey",
      "ca.key",
      "-CAcreateserial",
      "-out",
      "server.pem",
      "-days",
      "1",
      "-extfile",
      "ext.cnf",
    );
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (listener.addr as Deno.NetAddr).port;
    listener.close();
    const server = new Deno.Command("redis-server", {
      args: [
        ...["--port", "0", "--tls-port", String(port), "--bind", "127.0.0.1", "--save", ""],
        ...["--tls-cert-file", "server.pem", "--tls-key-file", "server.key"],
        ...["--tls-ca-cert-file", "ca.pem", "--tls-auth-clients", "no", "--requirepass", "pw"],
      ],
      cwd: dir,
      stdout: "null",
      stderr: "null",
    }).spawn();
    const url = `rediss://:pw@127.0.0.1:${port}`;
    try {
      const counts = async (options: { "ca-file"?: string }) => {
        const farm = openQueue(url, redisOptionsArg("test", options));
        try {
          return await farm.queue.getJobCounts("waiting");
        } finally {
          await farm.close().catch(() => {});
        }
      };
      let trusted: unknown;
      for (let i = 0; i < 50 && trusted === undefined; i++) {
        trusted = await counts({ "ca-file": join(dir, "ca.pem") }).catch(() => undefined);
        if (trusted === undefined) await new Promise((r) => setTimeout(r, 100));
      }
      assert.deepEqual(trusted, { waiting: 0 });
      await assert.rejects(counts({}));
      assert.throws(() => redisOptionsArg("worker", { "ca-file": join(dir, "ext.cnf") }), /no PEM/);
    } finally {
      server.kill("SIGTERM");
      await server.status;
      await Deno.remove(dir, { recursive: true });
    }
  },
});
