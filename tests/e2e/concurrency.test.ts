/** Real loopback sockets: many clients at once. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { WireframeClient } from "../../src/client/client.ts";
import { COUNT, ECHO, echoApp } from "../../examples/echo_server.ts";
import { captureLogger, readU32, serve, u32, waitFor } from "./_helpers.ts";

test("200 concurrent clients each get their own answers", async () => {
  await using running = await serve(echoApp().logger(captureLogger().logger));
  const n = 200;
  const clients: WireframeClient[] = [];
  try {
    const connected = await Promise.allSettled(
      Array.from({ length: n }, () => WireframeClient.connect({ port: running.port })),
    );
    for (const result of connected) if (result.status === "fulfilled") clients.push(result.value);
    for (const result of connected) if (result.status === "rejected") throw result.reason;
    await Promise.all(clients.map(async (client, c) => {
      for (let r = 0; r < 3; r++) {
        const value = c * 1000 + r;
        const reply = await client.request(ECHO, u32(value));
        assert.equal(readU32(reply.payload), value);
      }
      const counted: number[] = [];
      for await (
        const f of client.stream(COUNT, u32(3), { isEnd: (f) => readU32(f.payload) === 2 })
      ) {
        counted.push(readU32(f.payload));
      }
      assert.deepEqual(counted, [0, 1, 2]);
    }));
    const stats = running.server.stats();
    assert.equal(stats.connectionsAccepted, n);
    assert.equal(stats.requests, n * 4);
  } finally {
    await Promise.all(clients.map((client) => client.close()));
  }
  await waitFor(() => running.server.stats().connectionsActive === 0, "every connection to end");
  assert.equal(running.server.stats().connectionErrors, 0);
});
