// FrameWriter with a fragmenter: every path (one fragment encoded in place,
// one fragment of an encoded body, several fragments) puts the same messages
// on the wire, in order, with message ids in send order.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { defaultSerializer, type Envelope, type Serializer } from "../../src/codec/envelope.ts";
import { LengthDelimitedCodec } from "../../src/codec/length_delimited.ts";
import { FrameWriter } from "../../src/wire/frame_writer.ts";
import {
  Fragmenter,
  type FragmentStrategy,
  LenFlag32K,
  MuxFragmentStrategy,
  Reassembler,
} from "../../src/fragment/mod.ts";

const codec = new LengthDelimitedCodec();

/** A serializer without the in-place fast path: bodies are encoded first. */
const encodeOnly: Serializer = {
  decode: (body) => defaultSerializer.decode(body),
  encode: (envelope) => defaultSerializer.encode(envelope),
};

/** Write `envelopes` through a FrameWriter; returns every byte it wrote. */
async function written(
  envelopes: readonly Envelope[],
  strategy: FragmentStrategy,
  serializer: Serializer,
): Promise<Uint8Array[]> {
  const chunks: Uint8Array[] = [];
  // A sink keeps no reference once write() resolved (the Connection contract): copy, as a socket does.
  const sink = new WritableStream<Uint8Array>({
    write: (chunk) => void chunks.push(chunk.slice()),
  });
  const writer = new FrameWriter({
    writer: sink.getWriter(),
    codec,
    serializer,
    fragmenter: new Fragmenter(strategy),
  });
  for (const envelope of envelopes) await writer.send(envelope);
  await writer.close();
  return chunks;
}

/** The wire decoded: fragment bodies in order, and the messages they re-assemble to. */
function decode(chunks: readonly Uint8Array[], strategy: FragmentStrategy) {
  const decoder = codec.createDecoder();
  const reassembler = new Reassembler(strategy);
  const fragments: Uint8Array[] = [];
  const messages: Envelope[] = [];
  for (const chunk of chunks) {
    decoder.decode(chunk, (fragment) => {
      fragments.push(fragment.slice());
      reassembler.push(
        fragment,
        0,
        (body) => messages.push(defaultSerializer.decode(body.slice())),
      );
    });
  }
  decoder.finish();
  reassembler.finish();
  return { fragments, messages };
}

const envelopesArb = fc.array(
  fc.record({ id: fc.nat(), payload: fc.uint8Array({ maxLength: 60 }) }),
  { maxLength: 10 },
);

const strategiesArb = fc.integer({ min: 1, max: 40 }).chain((limit) =>
  fc.constantFrom<FragmentStrategy>(
    new LenFlag32K({ maxFragmentPayload: limit }),
    new LenFlag32K({ maxFragmentPayload: () => limit }), // context-aware: no fast path
    new MuxFragmentStrategy({ maxFragmentPayload: limit }),
    new MuxFragmentStrategy({ maxFragmentPayload: () => limit }),
  )
);

test("property: fragmented writes re-assemble to the envelopes sent, in order", async () => {
  await fc.assert(
    fc.asyncProperty(
      envelopesArb,
      strategiesArb,
      fc.boolean(),
      async (envelopes, strategy, inPlace) => {
        const chunks = await written(envelopes, strategy, inPlace ? defaultSerializer : encodeOnly);
        const { messages } = decode(chunks, strategy);
        assert.deepEqual(messages, envelopes.map((e) => ({ id: e.id, payload: e.payload })));
      },
    ),
    { numRuns: 150 },
  );
});

test("mux message ids go out in send order whichever path each message takes", async () => {
  const strategy = new MuxFragmentStrategy({ maxFragmentPayload: 16 });
  const sizes = [0, 40, 3, 16, 2, 100, 1];
  const envelopes = sizes.map((size, id) => ({ id, payload: new Uint8Array(size).fill(id) }));
  const { fragments, messages } = decode(
    await written(envelopes, strategy, defaultSerializer),
    strategy,
  );
  assert.deepEqual(messages.map((m) => m.id), [0, 1, 2, 3, 4, 5, 6]);
  const firstIds = fragments
    .map((f) => strategy.decodeHeader(f))
    .flatMap((h) => h.kind === "header" && h.meta.seq === 0 ? [h.meta.msgId] : []);
  assert.deepEqual(firstIds, [0, 1, 2, 3, 4, 5, 6]);
});
