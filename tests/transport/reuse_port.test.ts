/**
 * `reusePort` (SO_REUSEPORT): several listeners on one port, the kernel
 * spreading connections over them. Deno allows it only with --unstable-net
 * (the suite runs without: there it must refuse with a typed error; the
 * process test in tests/cluster/supervisor.test.ts runs Deno with the flag).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { ConfigError } from "../../src/error.ts";
import { AddressInUseError, UnsupportedRuntimeError } from "../../src/transport/errors.ts";
import { memoryTransport } from "../../src/transport/memory.ts";
import { runtimeTransport } from "../../src/transport/runtime.ts";
import type { Listener } from "../../src/transport/types.ts";

const transport = await runtimeTransport();

/** Listen with reusePort, or undefined where the runtime refuses it as documented. */
async function reusing(port: number): Promise<Listener | undefined> {
  try {
    return await transport.listen({ port, reusePort: true });
  } catch (error) {
    if ("Deno" in globalThis && error instanceof UnsupportedRuntimeError) {
      assert.match(error.message, /--unstable-net/);
      return undefined;
    }
    throw error;
  }
}

test("with reusePort, two listeners share one port and both accept connections", async () => {
  const a = await reusing(0);
  if (a === undefined) return; // Deno without --unstable-net: refused with a typed error
  await using _a = a;
  await using b = (await reusing(a.addr.port))!;
  assert.equal(b.addr.port, a.addr.port);
  const accepted = [0, 0];
  const serve = (listener: Listener, i: number) =>
    (async () => {
      for await (const conn of listener) {
        accepted[i]!++;
        conn.close();
      }
    })();
  const serving = [serve(a, 0), serve(b, 1)];
  // The kernel picks a listener by the connection's hash: within 500
  // connections each gets some (a bound on the count, not on time).
  for (let i = 0; i < 500 && (accepted[0] === 0 || accepted[1] === 0); i++) {
    const conn = await transport.connect({ port: a.addr.port });
    for await (const _ of conn.readable); // until the accepting side closes it
    conn.close();
  }
  assert.ok(accepted[0]! > 0 && accepted[1]! > 0, `accepted ${accepted}`);
  await a.close();
  await b.close();
  await Promise.all(serving);
});

test("without reusePort, a second listener on a taken port fails with AddressInUseError", async () => {
  await using a = await transport.listen({ port: 0 });
  await assert.rejects(transport.listen({ port: a.addr.port }), AddressInUseError);
});

test("the in-memory transport refuses reusePort with ConfigError", async () => {
  await assert.rejects(
    memoryTransport.listen({ port: 0, reusePort: true }),
    (e) => e instanceof ConfigError && e.option === "reusePort",
  );
});
