/**
 * A flood of protocol violations against the real echo server process costs
 * no stderr: a peer's violation is a counted debug event, not a warning.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { WireframeClient } from "../../src/client/client.ts";
import { concat, deadline, str, text, u32 } from "./_helpers.ts";
import { startExample } from "./_process.ts";

const CONNECTIONS = 2_000;
const AT_ONCE = 50;
const MAX_STDERR_LINES = 10;

/** A 13-byte body: id 1, flags 0x02 (a reserved bit), an 8-byte correlation id. */
const MALFORMED = concat(u32(13), u32(1), Uint8Array.of(0x02), new Uint8Array(8));

/** Connect, send one malformed frame, resolve once the server has closed the socket. */
function offend(port: number, hostname: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connect({ port, host: hostname });
    let connected = false;
    socket.once("connect", () => {
      connected = true;
      socket.write(MALFORMED);
    });
    socket.on("data", () => {}); // the server sends nothing; reading keeps the stream flowing
    socket.on("error", (error) => {
      if (!connected) reject(error); // a reset after our frame is a close as good as a FIN
    });
    socket.once("close", () => connected && resolve());
  });
}

test("2,000 connections that each send a malformed frame leave at most a few stderr lines, and the server still echoes", async () => {
  await using server = await startExample("echo_server.ts");
  let next = 0;
  const worker = async () => {
    while (next < CONNECTIONS) {
      next++;
      await offend(server.port, server.hostname);
    }
  };
  await deadline(
    Promise.all(Array.from({ length: AT_ONCE }, worker)),
    `${CONNECTIONS} malformed connections to be closed by the server`,
    120_000,
  );

  const client = await WireframeClient.connect({ hostname: server.hostname, port: server.port });
  try {
    const reply = await deadline(client.request(1, text("still here")), "an echo after the flood");
    assert.equal(str(reply.payload), "still here");
  } finally {
    await client.close();
  }
  assert.equal(await server.terminate(), 0, "a clean exit after the flood");
  const lines = server.stderr().split("\n").filter((line) => line.trim() !== "");
  assert.ok(
    lines.length <= MAX_STDERR_LINES,
    `${lines.length} stderr lines for ${CONNECTIONS} violations; first: ${
      lines.slice(0, 3).join(" | ")
    }`,
  );
});
