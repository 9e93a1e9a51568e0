import { concatBytes as concat } from "../../src/_internal/bytes.ts";
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { FrameDecoder, FrameEncoder } from "../../src/codec/mod.ts";
import {
  FragmentAdapter,
  FragmentError,
  type FragmentStrategy,
  LenFlag32K,
  type ReassemblyOptions,
} from "../../src/fragment/mod.ts";
import {
  Fragmenter,
  fragmentsOf,
  MuxFragmentStrategy,
  pushAll,
  rawMux,
  Reassembler,
} from "./_helpers.ts";

/** The same fragments as views into one shared buffer (as a socket chunk would hold them). */
function asViews(fragments: readonly Uint8Array[]): Uint8Array[] {
  const all = concat(fragments);
  let at = 0;
  return fragments.map((f) => all.subarray(at, at += f.length));
}

const messagesArb = fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 8 });

test("property: interleaved mux fragments re-assemble to the same messages", () => {
  fc.assert(
    fc.property(
      messagesArb,
      fc.integer({ min: 1, max: 64 }),
      fc.array(fc.nat(), { maxLength: 400 }),
      fc.boolean(),
      fc.boolean(),
      (messages, limit, choices, sendTotalLen, shared) => {
        const strategy = new MuxFragmentStrategy({ maxFragmentPayload: limit, sendTotalLen });
        const fragmenter = new Fragmenter(strategy);
        const queues = messages.map((m) => fragmentsOf(fragmenter, m));
        // Any interleaving that keeps each message's own order.
        const wire: Uint8Array[] = [];
        const completed: number[] = [];
        for (let k = 0; queues.some((q) => q.length > 0); k++) {
          const live = queues.flatMap((q, i) => (q.length > 0 ? [i] : []));
          const pick = live[(choices[k] ?? k) % live.length]!;
          wire.push(queues[pick]!.shift()!);
          if (queues[pick]!.length === 0) completed.push(pick);
        }
        const reassembler = new Reassembler(strategy, { maxConcurrentMessages: 64 });
        const out = pushAll(reassembler, shared ? asViews(wire) : wire);
        assert.deepEqual(out, completed.map((i) => messages[i]));
        assert.equal(reassembler.chargedBytes, 0);
        assert.equal(reassembler.partialMessages, 0);
      },
    ),
    { numRuns: 300 },
  );
});

const TIGHT: ReassemblyOptions = {
  maxMessageSize: 64,
  maxBufferedBytes: 96,
  fragmentOverhead: 16,
  maxConcurrentMessages: 3,
  reassemblyTimeoutMs: 100,
};

const muxOpArb = fc.record({
  msgId: fc.integer({ min: 0, max: 3 }),
  seq: fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, fc.integer({ min: 0, max: 5 })),
  flags: fc.oneof(
    { weight: 9, arbitrary: fc.constantFrom(0, 1, 2, 3) },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: 255 }) },
  ),
  payload: fc.uint8Array({ maxLength: 40 }),
  lenDelta: fc.oneof({ weight: 9, arbitrary: fc.constant(0) }, fc.integer({ min: -3, max: 3 })),
  totalLen: fc.integer({ min: 0, max: 100 }),
  embed: fc.option(fc.integer({ min: 0, max: 300 }), { nil: undefined }),
  truncate: fc.oneof(
    { weight: 19, arbitrary: fc.constant(undefined) },
    fc.integer({ min: 0, max: 20 }),
  ),
  dt: fc.integer({ min: 0, max: 60 }),
  expire: fc.boolean(),
});

// The next fragment of one of a few genuine messages, so real ones interleave with the noise.
const validArb = fc.record({ valid: fc.nat() });

type MuxOp = typeof muxOpArb extends fc.Arbitrary<infer T> ? T : never;

function muxBytes(op: MuxOp): Uint8Array {
  const payloadLen = Math.max(0, op.payload.length + op.lenDelta);
  let bytes = rawMux(
    op.msgId,
    op.seq,
    op.flags,
    payloadLen,
    op.payload,
    op.flags & 2 ? op.totalLen : undefined,
  );
  if (op.truncate !== undefined) bytes = bytes.subarray(0, op.truncate);
  if (op.embed === undefined) return bytes;
  const chunk = new Uint8Array(op.embed + bytes.length + 7); // a view into a bigger "socket chunk"
  chunk.set(bytes, op.embed);
  return chunk.subarray(op.embed, op.embed + bytes.length);
}

function runAdversary(
  strategy: FragmentStrategy,
  options: ReassemblyOptions,
  ops: readonly { bytes: Uint8Array; dt: number; expire: boolean }[],
): void {
  const reassembler = new Reassembler(strategy, options);
  const limits = reassembler.limits;
  let now = 0;
  for (const op of ops) {
    now += op.dt;
    try {
      if (op.expire) reassembler.expire(now);
      else {
        reassembler.push(op.bytes, now, (m) => assert.ok(m.length <= limits.maxMessageSize));
      }
    } catch (err) {
      if (!(err instanceof FragmentError)) throw err; // anything untyped fails the property
      if (limits.onViolation === "fail") assert.equal(reassembler.failure, err);
    }
    assert.ok(
      reassembler.chargedBytes <= limits.maxBufferedBytes,
      `charged ${reassembler.chargedBytes}`,
    );
    assert.ok(
      reassembler.bufferedBytes >= 0 && reassembler.bufferedBytes <= reassembler.chargedBytes,
    );
    assert.ok(reassembler.partialMessages <= limits.maxConcurrentMessages);
    if (reassembler.partialMessages === 0) assert.equal(reassembler.chargedBytes, 0);
  }
}

test("property: adversarial mux fragments re-assemble or throw a typed FragmentError within budget", () => {
  fc.assert(
    fc.property(
      fc.array(fc.uint8Array({ maxLength: 70 }), { minLength: 1, maxLength: 4 }),
      fc.array(fc.oneof(muxOpArb, validArb), { maxLength: 80 }),
      fc.constantFrom<"fail" | "drop">("fail", "drop"),
      (messages, ops, onViolation) => {
        const fragmenter = new Fragmenter(new MuxFragmentStrategy({ maxFragmentPayload: 8 }));
        const queues = messages.map((m) => fragmentsOf(fragmenter, m));
        const steps = ops.flatMap((op) => {
          if (!("valid" in op)) {
            return [{ bytes: muxBytes(op), dt: op.dt, expire: op.expire && op.dt > 40 }];
          }
          const next = queues[op.valid % queues.length]!.shift();
          return next === undefined ? [] : [{ bytes: next, dt: 1, expire: false }];
        });
        runAdversary(new MuxFragmentStrategy(), { ...TIGHT, onViolation }, steps);
      },
    ),
    { numRuns: 400 },
  );
});

test("property: adversarial LenFlag32K bytes re-assemble or throw a typed FragmentError within budget", () => {
  const lenFlagOp = fc.record({
    bytes: fc.oneof(
      fc.uint8Array({ maxLength: 50 }),
      fc.tuple(fc.boolean(), fc.uint8Array({ maxLength: 40 })).map(([fin, p]) =>
        Uint8Array.of(fin ? 0x80 : 0, p.length, ...p)
      ),
    ),
    dt: fc.integer({ min: 0, max: 60 }),
    expire: fc.boolean(),
  });
  fc.assert(
    fc.property(
      fc.array(lenFlagOp, { maxLength: 60 }),
      fc.constantFrom<"fail" | "drop">("fail", "drop"),
      (ops, onViolation) => {
        runAdversary(
          new LenFlag32K(),
          { ...TIGHT, onViolation },
          ops.map((op) => ({ ...op, expire: op.expire && op.dt > 40 })),
        );
      },
    ),
    { numRuns: 300 },
  );
});

function streamOf(chunks: readonly Uint8Array[]): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream({
    pull(controller) {
      if (i < chunks.length) controller.enqueue(chunks[i++]!);
      else controller.close();
    },
  });
}

async function collect(readable: ReadableStream<Uint8Array>): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for await (const chunk of readable) out.push(chunk.slice());
  return out;
}

test("property: the adapter round-trips messages through arbitrary chunking of the wire", async () => {
  await fc.assert(
    fc.asyncProperty(
      messagesArb,
      fc.integer({ min: 1, max: 64 }),
      fc.array(fc.integer({ min: 1, max: 100 }), { minLength: 1, maxLength: 20 }),
      fc.boolean(),
      async (messages, limit, sizes, multiplexed) => {
        const strategy = multiplexed
          ? new MuxFragmentStrategy({ maxFragmentPayload: limit })
          : new LenFlag32K({ maxFragmentPayload: limit });
        const adapter = new FragmentAdapter(strategy);
        const wire = concat(
          await collect(
            streamOf(messages).pipeThrough(adapter.outbound()).pipeThrough(new FrameEncoder()),
          ),
        );
        const chunks: Uint8Array[] = [];
        for (let at = 0, k = 0; at < wire.length; k++) {
          const size = sizes[k % sizes.length]!;
          chunks.push(wire.subarray(at, at + size));
          at += size;
        }
        const out = await collect(
          streamOf(chunks).pipeThrough(new FrameDecoder()).pipeThrough(adapter.inbound()),
        );
        assert.deepEqual(out, messages);
      },
    ),
    { numRuns: 100 },
  );
});
