/**
 * The README demo: start the echo server on a free port, then a client that
 * shows an echo and a streamed response, and exit 0.
 *
 * Run: `npm run demo` (Deno) or `bun examples/demo.ts`.
 *
 * @module
 */
import { WireframeClient } from "@wireframe/wireframe";
import { COUNT, ECHO, startEchoServer } from "./echo_server.ts";

const server = await startEchoServer({ port: 0 });
const { hostname, port } = server.addr;
console.log(`server: listening on ${hostname}:${port}`);

const client = await WireframeClient.connect({ hostname, port });
const text = "hello, wireframe";
console.log(`client: sent id ${ECHO} ${JSON.stringify(text)}`);
const echoed = await client.request(ECHO, new TextEncoder().encode(text), {
  signal: AbortSignal.timeout(5_000),
});
console.log(
  `client: received id ${echoed.id} correlation ${echoed.correlationId} ` +
    JSON.stringify(new TextDecoder().decode(echoed.payload)),
);

const n = 5;
const count = new Uint8Array(4);
new DataView(count.buffer).setUint32(0, n);
console.log(`client: sent id ${COUNT} count=${n}`);
const received: number[] = [];
for await (
  const frame of client.stream(COUNT, count, {
    isEnd: (f) => new DataView(f.payload.buffer, f.payload.byteOffset).getUint32(0) === n - 1,
    signal: AbortSignal.timeout(5_000),
  })
) {
  received.push(new DataView(frame.payload.buffer, frame.payload.byteOffset).getUint32(0));
}
console.log(`client: received stream [${received.join(", ")}]`);

await client.close();
await server.shutdown();
console.log("done");
