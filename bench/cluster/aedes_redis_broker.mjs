#!/usr/bin/env node
// aedes 1.2.0 with mqemitter-redis 7.2.1: aedes' own way to run several brokers on one Redis
// (every publish goes through Redis pub/sub to every broker), the peer bench/cluster compares
// the Wireframe broker's cluster mode with. TCP_NODELAY as the other brokers.
// Usage: node bench/cluster/aedes_redis_broker.mjs --port 0 --redis redis://127.0.0.1:6379
// Prints `listening on 127.0.0.1:PORT`; SIGTERM closes it.
import net from "node:net";
import { parseArgs } from "node:util";
import { Aedes } from "aedes";
import mqemitterRedis from "mqemitter-redis";

const { values } = parseArgs({
  options: { port: { type: "string", default: "1883" }, redis: { type: "string" } },
});
const mq = mqemitterRedis({ connectionString: values.redis });
const aedes = await Aedes.createBroker({ mq });
const server = net.createServer({ noDelay: true }, aedes.handle);
server.listen(Number(values.port), "127.0.0.1", () => {
  console.log(`listening on 127.0.0.1:${server.address().port}`);
});
process.once("SIGTERM", () => {
  server.close();
  // Exit without mq.close(): ioredis rejects its pending commands as "Connection is closed"
  // and, unhandled, that would crash the exit.
  aedes.close(() => process.exit(0));
});
