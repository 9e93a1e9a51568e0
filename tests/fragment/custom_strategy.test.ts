// The "Writing a FragmentStrategy" example of docs/fragmentation.md, verbatim
// between the markers, so the guide's code is known to work.
import { test } from "node:test";
import assert from "node:assert/strict";
import { FragmentSequenceError } from "../../src/fragment/mod.ts";
import { pattern } from "./_helpers.ts";

// --- example start ---
import {
  type DecodeHeaderResult,
  Fragmenter,
  type FragmentMeta,
  type FragmentStrategy,
  MalformedFragmentError,
  Reassembler,
} from "../../src/fragment/mod.ts";

/**
 * fragment := msgId:u16be seqAndFinal:u16be payload
 * seqAndFinal: bit 15 = final, bits 0-14 = seq (so at most 32,768 fragments a message)
 * Messages whose first byte is 0x01 ("bulk") go in 16 KiB fragments, others in 1 KiB.
 */
class Tiny16 implements FragmentStrategy {
  readonly multiplexed = true;
  readonly maxMsgId = 0xffff;

  decodeHeader(bytes: Uint8Array): DecodeHeaderResult {
    if (bytes.length < 4) return { kind: "need-more" };
    const word = (bytes[2]! << 8) | bytes[3]!;
    const meta: FragmentMeta = {
      msgId: (bytes[0]! << 8) | bytes[1]!,
      seq: word & 0x7fff,
      isFinal: (word & 0x8000) !== 0,
      payloadLen: bytes.length - 4, // the frame codec already delimited the fragment
    };
    return { kind: "header", meta, headerLen: 4 };
  }

  headerLength(_meta: FragmentMeta, _frame: Uint8Array): number {
    return 4;
  }

  encodeHeaderInto(meta: FragmentMeta, _frame: Uint8Array, target: Uint8Array, at: number): number {
    if (meta.seq > 0x7fff) throw new MalformedFragmentError("invalid-header", "seq above 32767");
    target[at] = meta.msgId >>> 8;
    target[at + 1] = meta.msgId & 0xff;
    target[at + 2] = (meta.isFinal ? 0x80 : 0) | (meta.seq >>> 8);
    target[at + 3] = meta.seq & 0xff;
    return 4;
  }

  maxFragmentPayload(frame: Uint8Array): number {
    return frame[0] === 0x01 ? 16 * 1024 : 1024;
  }
}

const tiny = new Tiny16();
const fragmenter = new Fragmenter(tiny, { maxMessageSize: 1024 * 1024 });
const reassembler = new Reassembler(tiny, { maxMessageSize: 1024 * 1024 });
// --- example end ---

test("the guide's Tiny16 strategy round-trips and interleaves", () => {
  const bulk = Uint8Array.of(0x01, ...pattern(40_000));
  const chat = Uint8Array.of(0x02, ...pattern(3_000));
  const a: Uint8Array[] = [];
  const b: Uint8Array[] = [];
  fragmenter.split(bulk, (f) => a.push(f.slice()));
  fragmenter.split(chat, (f) => b.push(f.slice()));
  assert.deepEqual([a.length, b.length], [3, 3]); // 16 KiB vs 1 KiB fragments
  assert.deepEqual([...a[2]!.subarray(0, 4)], [0, 0, 0x80, 2]);
  assert.deepEqual([...b[0]!.subarray(0, 4)], [0, 1, 0, 0]);
  const out: Uint8Array[] = [];
  for (const f of [a[0]!, b[0]!, b[1]!, a[1]!, b[2]!, a[2]!]) {
    reassembler.push(f, 0, (m) => out.push(m.slice()));
  }
  assert.deepEqual(out, [chat, bulk]);
});

test("the guide's Tiny16 strategy gets the library's sequence rules for free", () => {
  const local = new Reassembler(tiny);
  local.push(Uint8Array.of(0, 9, 0, 0, 1), 0, () => {});
  assert.throws(
    () => local.push(Uint8Array.of(0, 9, 0x80, 2, 3), 0, () => {}),
    FragmentSequenceError,
  );
});
