/**
 * The render farm's Redis connection and queue. BullMQ gets an `ioredis` instance, not connection
 * options (under Deno, BullMQ cannot load its optional ioredis peer by itself).
 */
import { Queue } from "npm:bullmq@6.7.0";
import { Redis } from "npm:ioredis@5.9.3";
import { EXIT, StylepipeError } from "../util/errors.ts";

/** The BullMQ queue every submitter, worker and scheduler uses. */
export const QUEUE_NAME = "stylepipe-renders";

/** A `--queue` value that is not `redis://HOST:PORT[/DB]` (exit code 2). */
export class QueueUrlError extends StylepipeError {
  override readonly exitCode = EXIT.invalid;
}

/** The queue's Redis server does not answer. */
export class QueueUnreachableError extends StylepipeError {}

/** Checks a queue URL (`redis://HOST:PORT[/DB]`, or `rediss://` for TLS); returns it unchanged. */
export function checkQueueUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new QueueUrlError(`--queue "${url}" is not a URL; expected redis://HOST:PORT[/DB]`);
  }
  if (parsed.protocol !== "redis:" && parsed.protocol !== "rediss:") {
    throw new QueueUrlError(`--queue "${url}": expected redis://HOST:PORT[/DB]`);
  }
  if (!/^\/?\d*$/.test(parsed.pathname)) {
    throw new QueueUrlError(`--queue "${url}": the path must be a database number, e.g. /0`);
  }
  return url;
}

/** The URL without its password, for logs and messages. */
export function redactedUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.href;
  } catch {
    return url;
  }
}

/** How to reach Redis beyond its URL. */
export interface RedisOptions {
  /** PEM certificates of the private CA that signed a `rediss://` server's certificate. */
  readonly ca?: string;
}

/**
 * Opens a Redis connection. A `persistent` one (workers) retries for ever, reconnecting after a
 * Redis restart, as BullMQ workers require (`maxRetriesPerRequest: null`); a short-lived one (CLI
 * commands) gives up after a few seconds so a wrong URL is an error, not a hang.
 */
export function openRedis(url: string, persistent: boolean, options: RedisOptions = {}): Redis {
  checkQueueUrl(url);
  // ioredis turns TLS on for rediss:// itself; `tls.ca` adds the private CA to what it trusts.
  const tls = options.ca !== undefined && url.startsWith("rediss:")
    ? { tls: { ca: options.ca } }
    : {};
  const redis = new Redis(
    url,
    persistent ? { maxRetriesPerRequest: null, ...tls } : {
      maxRetriesPerRequest: 2,
      connectTimeout: 3000,
      retryStrategy: (times) => (times > 3 ? null : 300),
      ...tls,
    },
  );
  // Connection errors surface through the commands that fail; the event alone must not crash.
  redis.on("error", () => {});
  return redis;
}

/** A queue handle for short-lived commands; {@link FarmQueue.close} closes the connection too. */
export interface FarmQueue {
  readonly queue: Queue;
  close(): Promise<void>;
}

/** Opens the farm's queue at `url` (short-lived connection). */
export function openQueue(url: string, options: RedisOptions = {}): FarmQueue {
  const connection = openRedis(url, false, options);
  const queue = new Queue(QUEUE_NAME, { connection });
  queue.on("error", () => {});
  return {
    queue,
    async close() {
      await queue.close();
      connection.disconnect();
    },
  };
}
