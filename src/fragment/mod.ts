/**
 * Fragmentation: split large logical messages into fragments that fit the
 * frame codec, and re-assemble them, with limits that a hostile peer cannot
 * get around (DESIGN §8; `docs/fragmentation.md`).
 *
 * - {@link FragmentStrategy} / {@link FragmentMeta}: the header contract.
 * - {@link LenFlag32K} (2-byte header, one message at a time) and
 *   {@link MuxFragmentStrategy} (msgId + seq, interleaved messages).
 * - {@link Fragmenter} and {@link Reassembler}: the synchronous cores.
 * - {@link FragmentAdapter}: both as TransformStreams.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Fragmenter, MuxFragmentStrategy, Reassembler } from "@wireframe/wireframe/fragment";
 *
 * const mux = new MuxFragmentStrategy({ maxFragmentPayload: 16 * 1024 });
 * const fragments: Uint8Array[] = [];
 * new Fragmenter(mux).split(new Uint8Array(100_000).fill(7), (f) => fragments.push(f));
 * assert.equal(fragments.length, 7); // 6 × 16 KiB, then the rest
 *
 * const reassembler = new Reassembler(mux);
 * const messages: Uint8Array[] = [];
 * for (const f of fragments) reassembler.push(f, performance.now(), (m) => messages.push(m));
 * assert.deepEqual(messages, [new Uint8Array(100_000).fill(7)]);
 * ```
 *
 * @module
 */
export { ConfigError, WireframeBaseError } from "../error.ts";
export type {
  DecodedHeader,
  DecodeHeaderResult,
  FragmentMeta,
  FragmentStrategy,
  NeedMoreHeader,
  SingleFragmentCodec,
} from "./types.ts";
export {
  FragmentError,
  FragmentSequenceError,
  type FragmentSequenceReason,
  IncompleteMessageError,
  MalformedFragmentError,
  type MalformedFragmentReason,
  MessageTooLargeError,
  ReassemblyBudgetError,
  ReassemblyTimeoutError,
  TooManyMessagesError,
} from "./errors.ts";
export {
  DEFAULT_FRAGMENT_OVERHEAD,
  DEFAULT_MAX_BUFFERED_BYTES,
  DEFAULT_MAX_CONCURRENT_MESSAGES,
  DEFAULT_MAX_MESSAGE_SIZE,
  DEFAULT_REASSEMBLY_TIMEOUT_MS,
  type FragmenterOptions,
  type ReassemblyLimits,
  type ReassemblyOptions,
  type ViolationPolicy,
} from "./options.ts";
export type { PayloadLimit } from "./_payload_limit.ts";
export { LEN_FLAG_32K_MAX_PAYLOAD, LenFlag32K, type LenFlag32KOptions } from "./len_flag_32k.ts";
export {
  MUX_DEFAULT_MAX_PAYLOAD,
  MUX_HEADER_LENGTH,
  MUX_HEADER_LENGTH_WITH_TOTAL,
  type MuxFragmentOptions,
  MuxFragmentStrategy,
} from "./mux.ts";
export { Fragmenter } from "./fragmenter.ts";
export { Reassembler, type ReassemblyWatcher } from "./reassembler.ts";
export { FragmentAdapter, type FragmentInboundOptions } from "./adapter.ts";
