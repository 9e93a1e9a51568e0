#!/usr/bin/env node
// bench/mqtt load generator: raw MQTT 3.1.1 over TCP (hand-written, so the generator costs as
// little as possible and the same for every broker), in a process of its own.
//
// Usage: node bench/mqtt/load.mjs --port P --scenario fanout|pairs|idle [--seconds 5]
//          [--subscribers 1000] [--pairs 100] [--idle 10000] [--window 64]
//
//   fanout: --subscribers connections subscribe to one topic at QoS 0; one publisher sends 16 B
//           QoS 0 messages, at most --window messages ahead of the last subscriber to have
//           subscribed (closed loop; if that subscriber gets nothing for 200 ms the window is
//           reset: its messages were dropped).
//   pairs:  --pairs publishers, each to its own topic, --pairs subscribers at QoS 1 (PUBACK every
//           delivery); each publisher keeps at most --window QoS 1 PUBLISHes unacknowledged.
//   idle:   --idle clients CONNECT (keepalive 0) and stay; prints `idle-ready` once every
//           CONNACK is in, then waits for a line on stdin and closes them.
//
// Prints `measuring` and `measured` around the measured window (run.mjs reads the broker's CPU
// time at those marks), then one JSON line: { deliveries, seconds, perSecond, p50Us, p99Us, ... }.
// Latency is publish → deliver: the payload's first 8 bytes are the sender's performance.now().
import net from "node:net";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    port: { type: "string" },
    scenario: { type: "string", default: "fanout" },
    seconds: { type: "string", default: "5" },
    subscribers: { type: "string", default: "1000" },
    pairs: { type: "string", default: "100" },
    idle: { type: "string", default: "10000" },
    window: { type: "string", default: "64" },
    // fanout across a cluster: subscribers round-robin over these ports (the publisher on --port)
    "sub-ports": { type: "string" },
  },
});
const port = Number(values.port);
const subPorts = values["sub-ports"]?.split(",").map(Number) ?? [port];
const seconds = Number(values.seconds);
const windowSize = Number(values.window);
const now = () => performance.now();

// ---------------------------------------------------------------- packets

function remaining(n) {
  const out = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 128;
    out.push(b);
  } while (n > 0);
  return out;
}
const str = (s) => {
  const b = Buffer.from(s);
  return [b.length >> 8, b.length & 0xff, ...b];
};
const connectPacket = (id) => {
  const body = [...str("MQTT"), 4, 0x02, 0, 0, ...str(id)];
  return Buffer.from([0x10, ...remaining(body.length), ...body]);
};
const subscribePacket = (topic, qos) => {
  const body = [0, 1, ...str(topic), qos];
  return Buffer.from([0x82, ...remaining(body.length), ...body]);
};
/** A PUBLISH template: 16 B payload whose first 8 bytes are rewritten per send. */
function publishTemplate(topic, qos) {
  const t = Buffer.from(topic);
  const body = 2 + t.length + (qos ? 2 : 0) + 16;
  const buf = Buffer.alloc(1 + remaining(body).length + body);
  let at = 0;
  buf[at++] = 0x30 | (qos << 1);
  for (const b of remaining(body)) buf[at++] = b;
  buf.writeUInt16BE(t.length, at);
  t.copy(buf, at + 2);
  at += 2 + t.length;
  const idAt = qos ? at : -1;
  if (qos) at += 2;
  return { buf, idAt, stampAt: at };
}

/** A socket that calls onPacket(type, flags, body-buffer, bodyStart, bodyEnd) per whole packet. */
function open(onPacket, to = port) {
  const socket = net.connect({ host: "127.0.0.1", port: to });
  socket.setNoDelay(true);
  let pending = null;
  socket.on("data", (chunk) => {
    const buf = pending === null ? chunk : Buffer.concat([pending, chunk]);
    let pos = 0;
    const len = buf.length;
    for (;;) {
      if (len - pos < 2) break;
      let length = 0, scale = 1, at = pos + 1, complete = false;
      while (at < len) {
        const b = buf[at++];
        length += (b & 0x7f) * scale;
        scale *= 128;
        if (b < 0x80) {
          complete = true;
          break;
        }
      }
      if (!complete || len - at < length) break;
      onPacket(buf[pos] >> 4, buf[pos] & 0x0f, buf, at, at + length);
      pos = at + length;
    }
    pending = pos === len ? null : buf.subarray(pos);
  });
  socket.on("error", () => {});
  return socket;
}

function connectClient(id, onPacket = () => {}, to = port) {
  return new Promise((resolve, reject) => {
    let connected = false;
    const socket = open((type, flags, buf, start, end) => {
      if (!connected && type === 2) {
        connected = true;
        if (buf[start + 1] !== 0) reject(new Error(`CONNACK ${buf[start + 1]}`));
        else resolve(socket);
        return;
      }
      onPacket(type, flags, buf, start, end, socket);
    }, to);
    socket.once("connect", () => socket.write(connectPacket(id)));
    socket.once("close", () => !connected && reject(new Error(`${id} closed before CONNACK`)));
  });
}

async function inBatches(n, batch, make) {
  const out = [];
  for (let i = 0; i < n; i += batch) {
    out.push(
      ...await Promise.all(Array.from({ length: Math.min(batch, n - i) }, (_, k) => make(i + k))),
    );
  }
  return out;
}

function subscribe(socket, topic, qos) {
  return new Promise((resolve) => {
    socket.__suback = resolve;
    socket.write(subscribePacket(topic, qos));
  });
}

const latencies = new Float64Array(2_000_000);
let samples = 0;
let measuring = false;
let deliveries = 0;
function delivered(buf, stampAt) {
  if (!measuring) return;
  deliveries++;
  if (samples < latencies.length) latencies[samples++] = now() - buf.readDoubleBE(stampAt);
}

function percentiles() {
  const s = latencies.subarray(0, samples).sort();
  const at = (p) =>
    s.length ? Math.round(s[Math.min(s.length - 1, Math.floor(p * s.length))] * 1000) : null;
  return { p50Us: at(0.5), p99Us: at(0.99) };
}

async function measure(run) {
  // Warm up for a second, then measure.
  const stop = run();
  await new Promise((r) => setTimeout(r, 1000));
  deliveries = 0;
  samples = 0;
  measuring = true;
  console.log("measuring");
  const started = now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  measuring = false;
  const elapsed = (now() - started) / 1000;
  console.log("measured");
  stop();
  return {
    deliveries,
    seconds: elapsed,
    perSecond: Math.round(deliveries / elapsed),
    ...percentiles(),
  };
}

// ---------------------------------------------------------------- scenarios

async function fanout() {
  const n = Number(values.subscribers);
  const topic = "bench/fan";
  const tpl = publishTemplate(topic, 0);
  const stampAt = (start) => start + 2 + topic.length; // QoS 0: no packet id
  let lastSeen = 0;
  let lastAt = now();
  const probe = { socket: undefined };
  const subs = await inBatches(
    n,
    100,
    (i) =>
      connectClient(`fan-sub-${i}`, (type, _flags, buf, start, _end, socket) => {
        if (type === 9) return socket.__suback?.();
        if (type !== 3) return;
        delivered(buf, stampAt(start));
        if (socket === probe.socket) {
          lastSeen++;
          lastAt = now();
        }
      }, subPorts[i % subPorts.length]),
  );
  for (const s of subs) await subscribe(s, topic, 0);
  probe.socket = subs[subs.length - 1];
  const pub = await connectClient("fan-pub");
  let sent = 0;
  let running = true;
  let base = 0; // messages written off as dropped to the probe
  const pump = () => {
    if (!running) return;
    if (now() - lastAt > 200 && sent - base - lastSeen >= windowSize) {
      base = sent - lastSeen; // the probe lost them: reset the window
      lastAt = now();
    }
    let wrote = 0;
    while (sent - base - lastSeen < windowSize && wrote < 64) {
      tpl.buf.writeDoubleBE(now(), tpl.stampAt);
      pub.write(Buffer.from(tpl.buf));
      sent++;
      wrote++;
    }
    setImmediate(pump);
  };
  pump();
  const result = await measure(() => () => (running = false));
  result.published = sent;
  for (const s of [...subs, pub]) s.destroy();
  return result;
}

async function pairs() {
  const n = Number(values.pairs);
  const subs = await inBatches(
    n,
    100,
    (i) =>
      connectClient(`pair-sub-${i}`, (type, _flags, buf, start, _end, socket) => {
        if (type === 9) return socket.__suback?.();
        if (type !== 3) return;
        const topicLength = buf.readUInt16BE(start);
        const idAt = start + 2 + topicLength;
        delivered(buf, idAt + 2);
        socket.write(Buffer.from([0x40, 2, buf[idAt], buf[idAt + 1]])); // PUBACK
      }),
  );
  for (let i = 0; i < n; i++) await subscribe(subs[i], `bench/pair/${i}`, 1);
  let running = true;
  const pubs = await inBatches(n, 100, async (i) => {
    const tpl = publishTemplate(`bench/pair/${i}`, 1);
    let outstanding = 0;
    let nextId = 1;
    const conn = { socket: undefined };
    const send = () => {
      const socket = conn.socket;
      while (running && outstanding < windowSize) {
        const buf = Buffer.from(tpl.buf);
        buf.writeUInt16BE(nextId, tpl.idAt);
        nextId = nextId === 65535 ? 1 : nextId + 1;
        buf.writeDoubleBE(now(), tpl.stampAt);
        socket.write(buf);
        outstanding++;
      }
    };
    conn.socket = await connectClient(`pair-pub-${i}`, (type) => {
      if (type === 4) {
        outstanding--;
        send();
      }
    });
    return { socket: conn.socket, send };
  });
  for (const p of pubs) p.send();
  const result = await measure(() => () => (running = false));
  for (const s of [...subs, ...pubs.map((p) => p.socket)]) s.destroy();
  return result;
}

async function idle() {
  const n = Number(values.idle);
  const started = now();
  const clients = await inBatches(n, 500, (i) => connectClient(`idle-${i}`));
  console.log("idle-ready");
  const connectSeconds = (now() - started) / 1000;
  const rl = createInterface({ input: process.stdin });
  await new Promise((r) => rl.once("line", r));
  rl.close();
  for (const c of clients) c.destroy();
  return { clients: clients.length, connectSeconds };
}

const scenario = { fanout, pairs, idle }[values.scenario];
if (!(port > 0) || scenario === undefined) {
  console.error("load.mjs: --port P and --scenario fanout|pairs|idle are required");
  process.exit(2);
}
console.log(JSON.stringify(await scenario()));
process.exit(0);
