/** examples/echo_server.ts as a real process on the current runtime: serve, then SIGTERM. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { WireframeClient } from "../../src/client/client.ts";
import { readU32, str, text, u32 } from "./_helpers.ts";
import { startExample } from "./_process.ts";

test("the echo server example serves an echo and a stream, and exits 0 on SIGTERM", async () => {
  await using server = await startExample("echo_server.ts");
  const client = await WireframeClient.connect({ hostname: server.hostname, port: server.port });
  try {
    const reply = await client.request(1, text("over a real socket"));
    assert.equal(str(reply.payload), "over a real socket");
    const counted: number[] = [];
    for await (const f of client.stream(2, u32(3), { isEnd: (f) => readU32(f.payload) === 2 })) {
      counted.push(readU32(f.payload));
    }
    assert.deepEqual(counted, [0, 1, 2]);
  } finally {
    await client.close();
  }
  assert.equal(await server.terminate(), 0, "exit code 0 after SIGTERM");
});
