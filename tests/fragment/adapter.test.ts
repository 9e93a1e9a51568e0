import { test } from "node:test";
import assert from "node:assert/strict";
import { FrameDecoder, FrameEncoder } from "../../src/codec/mod.ts";
import {
  FragmentAdapter,
  type FragmentError,
  FragmentSequenceError,
  IncompleteMessageError,
  LenFlag32K,
  MessageTooLargeError,
  ReassemblyTimeoutError,
} from "../../src/fragment/mod.ts";
import { muxFragment, MuxFragmentStrategy, pattern } from "./_helpers.ts";

async function collect(readable: ReadableStream<Uint8Array>): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for await (const chunk of readable) out.push(chunk.slice());
  return out;
}

function streamOf(chunks: readonly Uint8Array[]): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream({
    pull(controller) {
      if (i < chunks.length) controller.enqueue(chunks[i++]!);
      else controller.close();
    },
  });
}

const frag = (msgId: number, seq: number, isFinal: boolean, payload: Uint8Array) =>
  muxFragment({ msgId, seq, isFinal, payloadLen: payload.length }, payload);

test("outbound → FrameEncoder → FrameDecoder → inbound round-trips messages", async () => {
  const strategies = [new LenFlag32K(), new MuxFragmentStrategy({ maxFragmentPayload: 1000 })];
  for (const strategy of strategies) {
    const adapter = new FragmentAdapter(strategy);
    const messages = [
      pattern(100_000, 1),
      pattern(0),
      pattern(1, 2),
      pattern(32_767, 3),
      pattern(5000, 4),
    ];
    const out = await collect(
      streamOf(messages)
        .pipeThrough(adapter.outbound())
        .pipeThrough(new FrameEncoder())
        .pipeThrough(new FrameDecoder())
        .pipeThrough(adapter.inbound()),
    );
    assert.deepEqual(out, messages);
  }
});

test("an idle partial message is evicted by the timer and errors the stream", async () => {
  // The clock jumps 5 s per reading, so the timer is armed with delay 0: no real waiting.
  let t = 0;
  const clock = () => (t += 5_000) - 5_000;
  const adapter = new FragmentAdapter(new MuxFragmentStrategy(), { reassemblyTimeoutMs: 1_000 });
  const inbound = adapter.inbound({ clock });
  const writer = inbound.writable.getWriter();
  const reader = inbound.readable.getReader();
  const read = reader.read();
  await writer.write(frag(7, 0, false, pattern(10))); // then nothing more arrives
  const err = await read.then(() => undefined, (e: unknown) => e);
  assert.ok(err instanceof ReassemblyTimeoutError);
  assert.equal(err.msgId, 7);
  await assert.rejects(writer.write(frag(7, 1, true, pattern(1))), ReassemblyTimeoutError);
});

test("the eviction timer works with the real clock too", async () => {
  const adapter = new FragmentAdapter(new LenFlag32K(), { reassemblyTimeoutMs: 5 });
  const inbound = adapter.inbound();
  const writer = inbound.writable.getWriter();
  const read = inbound.readable.getReader().read();
  await writer.write(Uint8Array.of(0x00, 1, 42));
  await assert.rejects(read, ReassemblyTimeoutError);
});

test("the timer keeps watching later partial messages after the first completes", async () => {
  let now = 0;
  const adapter = new FragmentAdapter(new MuxFragmentStrategy(), { reassemblyTimeoutMs: 20 });
  const inbound = adapter.inbound({ clock: () => now });
  const writer = inbound.writable.getWriter();
  const reader = inbound.readable.getReader();
  const first = reader.read();
  await writer.write(frag(1, 0, false, pattern(1))); // arms the timer for message 1
  now = 10;
  void writer.write(frag(2, 0, false, pattern(1)));
  void writer.write(frag(1, 1, true, pattern(1)));
  assert.deepEqual((await first).value, Uint8Array.of(...pattern(1), ...pattern(1)));
  now = 1_000; // message 2 is overdue, and no byte will arrive: the timer must evict it
  const err = await reader.read().then(() => undefined, (e: unknown) => e);
  assert.ok(err instanceof ReassemblyTimeoutError);
  assert.equal(err.msgId, 2);
});

test("input that ends inside a message errors with IncompleteMessageError", async () => {
  const adapter = new FragmentAdapter(new LenFlag32K(), { reassemblyTimeoutMs: 60_000 });
  const out = collect(streamOf([Uint8Array.of(0x00, 1, 1)]).pipeThrough(adapter.inbound()));
  await assert.rejects(out, IncompleteMessageError);
});

test("cancelling the readable clears the timer (no leak under Deno's sanitizer)", async () => {
  const adapter = new FragmentAdapter(new LenFlag32K(), { reassemblyTimeoutMs: 60_000 });
  const inbound = adapter.inbound();
  const writer = inbound.writable.getWriter();
  const reader = inbound.readable.getReader();
  const read = reader.read();
  await writer.write(Uint8Array.of(0x00, 1, 1));
  await reader.cancel("done");
  assert.deepEqual(await read, { done: true, value: undefined });
  await assert.rejects(writer.write(Uint8Array.of(0x80, 0)));
});

test("aborting the writable clears the timer", async () => {
  const adapter = new FragmentAdapter(new LenFlag32K(), { reassemblyTimeoutMs: 60_000 });
  const inbound = adapter.inbound();
  const writer = inbound.writable.getWriter();
  const read = inbound.readable.getReader().read();
  await writer.write(Uint8Array.of(0x00, 1, 1));
  await writer.abort(new Error("gone"));
  await assert.rejects(read, /gone/);
});

test("a violation errors the stream with its FragmentError and clears the timer", async () => {
  const adapter = new FragmentAdapter(new MuxFragmentStrategy(), { reassemblyTimeoutMs: 60_000 });
  const wire = [frag(1, 0, false, pattern(2)), frag(1, 2, true, pattern(2))];
  await assert.rejects(
    collect(streamOf(wire).pipeThrough(adapter.inbound())),
    FragmentSequenceError,
  );
});

test("with onViolation 'drop' the stream reports to onDropped and carries on", async () => {
  const adapter = new FragmentAdapter(new MuxFragmentStrategy(), { onViolation: "drop" });
  const dropped: FragmentError[] = [];
  const wire = [
    frag(1, 0, false, pattern(2)),
    frag(2, 0, false, pattern(3)),
    frag(1, 2, true, pattern(2)), // gap: message 1 is dropped
    frag(2, 1, true, pattern(1)),
  ];
  const out = await collect(
    streamOf(wire).pipeThrough(adapter.inbound({ onDropped: (e) => dropped.push(e) })),
  );
  assert.deepEqual(out, [Uint8Array.of(...pattern(3), ...pattern(1))]);
  assert.equal(dropped.length, 1);
  assert.ok(dropped[0] instanceof FragmentSequenceError);
});

test("outbound errors the stream for a message above maxMessageSize", async () => {
  const adapter = new FragmentAdapter(new LenFlag32K(), { maxMessageSize: 10 });
  await assert.rejects(
    collect(streamOf([pattern(11)]).pipeThrough(adapter.outbound())),
    MessageTooLargeError,
  );
});

test("createFragmenter and createReassembler share the adapter's limits", () => {
  const adapter = new FragmentAdapter(new MuxFragmentStrategy(), { maxMessageSize: 1234 });
  assert.equal(adapter.createFragmenter().maxMessageSize, 1234);
  assert.deepEqual(adapter.createReassembler().limits, adapter.limits);
  assert.notEqual(adapter.createFragmenter(), adapter.createFragmenter());
});
