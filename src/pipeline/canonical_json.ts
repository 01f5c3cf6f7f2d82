/** Canonical JSON (object keys sorted at every level) so equal data always hashes the same. */

/** Serializes `value` with sorted keys; `undefined` members are dropped as in JSON. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v !== null && typeof v === "object" && !ArrayBuffer.isView(v)) {
    return Object.fromEntries(
      Object.keys(v).sort().map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]),
    );
  }
  return v;
}
