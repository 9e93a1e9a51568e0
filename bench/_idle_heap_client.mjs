// bench/idle_heap.ts's client, a Node process of its own (so its sockets and
// heap are not in the server's numbers): opens N connections, 100 at a time,
// does one 16-byte echo on each, prints "ready", and holds them until its
// stdin closes. Usage: node bench/_idle_heap_client.mjs PORT N
import { connect, RpcConnection } from "./abuse/_wire.mjs";

const [port, count] = process.argv.slice(2).map(Number);
const sockets = [];
const payload = Buffer.alloc(16, 0x69);
for (let i = 0; i < count; i += 100) {
  await Promise.all(Array.from({ length: Math.min(100, count - i) }, async () => {
    const socket = await connect(port);
    const outcome = await new RpcConnection(socket).request(1, payload, 10_000);
    if (!outcome.ok) throw new Error(`echo ${outcome.why}`);
    sockets.push(socket);
  }));
}
process.stdout.write("ready\n");
process.stdin.resume();
process.stdin.on("end", () => {
  for (const socket of sockets) socket.destroy();
  process.exit(0);
});
