/**
 * Push tests through a real server over the memory transport: a peer that
 * does not read (so the server's writer, and then the push queues, fill up
 * and stay full), and the connection's PushHandle.
 */
import assert from "node:assert/strict";
import { WireframeApp } from "../../src/app/app.ts";
import type { Envelope } from "../../src/codec/envelope.ts";
import type { DeadLetter } from "../../src/push/dead_letter.ts";
import type { PushPriority } from "../../src/push/push_handle.ts";
import type { PushHandle } from "../../src/push/push_handle.ts";
import { memoryTransport } from "../../src/transport/memory.ts";
import type { Connection } from "../../src/transport/types.ts";
import {
  captureLogger,
  deadline,
  type LogRecord,
  RawClient,
  type Running,
  signal,
  u32,
} from "../e2e/_helpers.ts";
import { serveMemory } from "../server/_memory.ts";

/** Id of pushed test frames; payload starts with a u32 sequence number. */
export const PUSH_ID = 40;

/** A small push frame numbered `n`. */
export function small(n: number): Envelope {
  return { id: PUSH_ID, payload: u32(n) };
}

/**
 * A push frame numbered `n` larger than the server writer's 64 KiB
 * high-water mark: each one makes the actor wait for the writer.
 */
export function big(n: number): Envelope {
  const payload = new Uint8Array(70 * 1024);
  payload.set(u32(n));
  return { id: PUSH_ID, payload };
}

/** The sequence number of a frame built by {@link small} or {@link big}. */
export function seq(frame: Envelope): number {
  return new DataView(frame.payload.buffer, frame.payload.byteOffset, 4).getUint32(0);
}

/** Let pending callbacks and one macrotask run (never a correctness wait). */
export const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

/** A server with one connected peer that is not reading, and that peer's push handle. */
export interface PushRig extends AsyncDisposable {
  running: Running<undefined>;
  handle: PushHandle;
  /** The client end; nothing reads it until {@link PushRig.reader} is called. */
  peer: Connection;
  logs: LogRecord[];
  letters: DeadLetter[];
  /** Start reading the peer (once); frames then arrive through the RawClient. */
  reader(): RawClient;
}

/**
 * Serve `configure(app)` and connect one peer that does not read. The app gets
 * a capturing logger and a collecting dead-letter queue unless `configure`
 * sets its own.
 */
export async function pushRig(
  configure: (app: WireframeApp) => WireframeApp = (app) => app,
): Promise<PushRig> {
  const { logger, records } = captureLogger();
  const letters: DeadLetter[] = [];
  const handleSeen = signal<PushHandle>();
  const dlq = new WritableStream<DeadLetter>(
    { write: (letter) => void letters.push(letter) },
    new CountQueuingStrategy({ highWaterMark: 1_000_000 }),
  );
  const app = configure(
    new WireframeApp()
      .logger(logger, { throttleMs: 0 }) // counts every record
      .deadLetterQueue(dlq)
      // The frame capacities alone bound the queues here (big frames would
      // reach the byte water marks first); slow_consumer.test.ts tests those.
      .outbound({ highWaterMark: 0x7fff_ffff })
      .withProtocol({ onConnectionSetup: (push) => handleSeen.resolve(push) }),
  );
  const running = await serveMemory(app);
  const peer = await memoryTransport.connect({ hostname: "127.0.0.1", port: running.port });
  const handle = await deadline(handleSeen.promise, "the connection's push handle");
  let raw: RawClient | undefined;
  return {
    running,
    handle,
    peer,
    logs: records,
    letters,
    reader: () => (raw ??= RawClient.from(peer)),
    async [Symbol.asyncDispose]() {
      if (raw) await raw[Symbol.asyncDispose]();
      else peer.close();
      await running[Symbol.asyncDispose]();
    },
  };
}

/**
 * Fill `priority`'s queue of a connection whose peer does not read, with big
 * frames numbered from `from`. Returns how many were queued. Once the
 * writer's one write is stuck on the full transport, nothing drains, so the
 * queue stays full: the loop repeats until a full queue survives a macrotask.
 */
export async function jam(handle: PushHandle, priority: PushPriority, from = 1): Promise<number> {
  let n = from;
  let queued = 0;
  for (let rounds = 0; rounds < 100; rounds++) {
    while (handle.tryPush(big(n), { priority }) === "queued") {
      n++;
      queued++;
    }
    await settle();
    await settle();
    const again = handle.tryPush(big(n), { priority });
    if (again === "full") return queued;
    assert.equal(again, "queued", `jam: unexpected ${again}`);
    n++;
    queued++;
  }
  throw new Error("jam: the queue never stayed full");
}

/** Read `count` frames and return their [id, correlationId, seq]. */
export async function readPushes(
  raw: RawClient,
  count: number,
): Promise<[number, bigint | undefined, number][]> {
  const out: [number, bigint | undefined, number][] = [];
  for (let i = 0; i < count; i++) {
    const f = await raw.readFrame(`push ${i + 1} of ${count}`);
    out.push([f.id, f.correlationId, seq(f)]);
  }
  return out;
}
