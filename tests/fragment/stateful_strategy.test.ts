/**
 * Strategies with per-connection state (`forConnection`) and a final fragment
 * that must be shorter than a full one (`continuesWhenFull`), as MySQL's
 * sequence id and 0xFFFFFF packets need.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { WireframeApp } from "../../src/app/app.ts";
import { WireframeClient } from "../../src/client/client.ts";
import { Fragmenter } from "../../src/fragment/fragmenter.ts";
import { Reassembler } from "../../src/fragment/reassembler.ts";
import type { DecodeHeaderResult, FragmentStrategy } from "../../src/fragment/types.ts";
import { WireframeServer } from "../../src/server/server.ts";

/** Header: one byte, a counter both directions share; a full 4-byte payload continues. */
class Counting implements FragmentStrategy {
  static created = 0;
  static takenUp = 0;
  readonly multiplexed = false;
  readonly continuesWhenFull = true;
  next = 0;
  readonly seen: number[] = [];
  messageTakenUp(): void {
    Counting.takenUp++;
  }
  forConnection(): Counting {
    Counting.created++;
    return new Counting();
  }
  decodeHeader(bytes: Uint8Array): DecodeHeaderResult {
    if (bytes.length < 1) return { kind: "need-more" };
    this.seen.push(bytes[0]!);
    this.next = bytes[0]! + 1;
    const payloadLen = bytes.length - 1;
    return {
      kind: "header",
      headerLen: 1,
      meta: { msgId: 0, seq: 0, isFinal: payloadLen < 4, payloadLen },
    };
  }
  headerLength(): number {
    return 1;
  }
  encodeHeaderInto(_meta: unknown, _frame: Uint8Array, target: Uint8Array, offset: number): number {
    target[offset] = this.next++;
    return 1;
  }
  maxFragmentPayload(): number {
    return 4;
  }
}

test("continuesWhenFull: a message of a multiple of the fragment size ends with an empty final fragment", () => {
  const fragmenter = new Fragmenter(new Counting());
  const split = (n: number) => {
    const out: number[] = [];
    fragmenter.split(new Uint8Array(n), (f) => void out.push(f.length - 1));
    return out;
  };
  assert.deepEqual(split(8), [4, 4, 0]);
  assert.deepEqual(split(4), [4, 0]);
  assert.deepEqual(split(3), [3]);
  assert.deepEqual(split(0), [0]);
  assert.equal(
    fragmenter.planSingle(new Uint8Array(4)),
    undefined,
    "a full one is not a single fragment",
  );
  assert.ok(fragmenter.planSingle(new Uint8Array(3)));
  const messages: number[] = [];
  const reassembler = new Reassembler(new Counting());
  const fragments: Uint8Array[] = [];
  new Fragmenter(new Counting()).split(
    new Uint8Array(8).fill(1),
    (f) => void fragments.push(f.slice()),
  );
  for (const f of fragments) reassembler.push(f, 0, (m) => void messages.push(m.length));
  assert.deepEqual(messages, [8]);
});

test("forConnection: each connection's fragmenter and re-assembler share one fresh strategy; headers go out in order", async () => {
  Counting.created = 0;
  Counting.takenUp = 0;
  const app = new WireframeApp().fragmentation(new Counting()).route(1, async function* (request) {
    yield request.payload; // 1 fragment
    yield new Uint8Array(9); // 3 fragments (4, 4, 1)
    yield Uint8Array.of(7); // 1 fragment
  });
  await using server = new WireframeServer(app);
  const { port } = await server.listen({ hostname: "127.0.0.1", port: 0 });
  const strategy = new Counting();
  for (let i = 0; i < 2; i++) {
    await using client = await WireframeClient.connect({ port, fragmentation: { strategy } });
    const frames = client.stream(1, Uint8Array.of(1), {
      isEnd: (f) => f.payload.length === 1 && f.payload[0] === 7,
    });
    const sizes = (await Array.fromAsync(frames)).map((f) => f.payload.length);
    assert.ok(sizes.length === 3, `three responses (got ${sizes})`);
  }
  assert.equal(Counting.created, 4, "one strategy per connection on each side");
  // Two requests taken up by the server, six responses by the clients.
  assert.equal(Counting.takenUp, 2 + 6, "messageTakenUp once per inbound message, both sides");
});
