// InboundMessages: bytes in, messages out, with the re-assembly clock read
// lazily (only for fragments that need it).
import { test } from "node:test";
import assert from "node:assert/strict";
import { concatBytes as concat } from "../../src/_internal/bytes.ts";
import { LengthDelimitedCodec } from "../../src/codec/length_delimited.ts";
import { InboundMessages } from "../../src/wire/inbound_messages.ts";
import { fragmentationSpec } from "../../src/wire/fragmentation_spec.ts";
import { Fragmenter, LenFlag32K, ReassemblyTimeoutError } from "../../src/fragment/mod.ts";

const codec = new LengthDelimitedCodec();
const strategy = new LenFlag32K({ maxFragmentPayload: 4 });

/** `message` fragmented with `strategy`, each fragment framed by `codec`. */
function framedFragments(message: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  new Fragmenter(strategy).split(message, (fragment) => out.push(codec.encode(fragment)));
  return out;
}

test("whole and multi-fragment messages come out in order from one chunk", () => {
  const inbound = new InboundMessages(codec, fragmentationSpec("test", strategy, {}), () => {});
  const messages = [
    new Uint8Array([1, 2]),
    new Uint8Array([3, 4, 5, 6, 7, 8, 9]),
    new Uint8Array(),
  ];
  const out: number[][] = [];
  inbound.decode(concat(messages.flatMap(framedFragments)), (m) => out.push(Array.from(m)));
  inbound.finish();
  inbound.close();
  assert.deepEqual(out, messages.map((m) => Array.from(m)));
});

test("a partial message is evicted no sooner than reassemblyTimeoutMs after its first fragment", async () => {
  const timeoutMs = 100;
  let expired!: (error: unknown) => void;
  const eviction = new Promise<unknown>((resolve) => (expired = resolve));
  const inbound = new InboundMessages(
    codec,
    fragmentationSpec("test", strategy, { reassemblyTimeoutMs: timeoutMs }),
    (error) => expired(error),
  );
  const [first] = framedFragments(new Uint8Array(10));
  const sentAt = performance.now();
  inbound.decode(first!, () => assert.fail("no message is complete"));
  const error = await eviction;
  // Timers never fire early (1 ms of slack for clock rounding), so this cannot flake.
  assert.ok(performance.now() - sentAt >= timeoutMs - 1, "evicted before its deadline");
  assert.ok(error instanceof ReassemblyTimeoutError);
  inbound.close();
});
