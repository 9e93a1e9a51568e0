#!/usr/bin/env node
// aedes 1.2.0 (npm), the Node MQTT broker bench/mqtt compares against, with its defaults
// (in-memory persistence and mqemitter), plus TCP_NODELAY. Usage: node bench/mqtt/aedes_broker.mjs --port 0
// Prints `listening on 127.0.0.1:PORT`; SIGTERM closes it.
import net from "node:net";
import { parseArgs } from "node:util";
import { Aedes } from "aedes";

const { values } = parseArgs({ options: { port: { type: "string", default: "1883" } } });
const aedes = await Aedes.createBroker();
// TCP_NODELAY, as the other brokers set it (Node's default is Nagle on).
const server = net.createServer({ noDelay: true }, aedes.handle);
server.listen(Number(values.port), "127.0.0.1", () => {
  console.log(`listening on 127.0.0.1:${server.address().port}`);
});
process.once("SIGTERM", () => {
  server.close();
  aedes.close(() => process.exit(0));
});
