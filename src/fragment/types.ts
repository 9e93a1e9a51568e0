/**
 * The fragmentation contract: what a fragment header says ({@link FragmentMeta})
 * and how a protocol reads and writes it ({@link FragmentStrategy}).
 *
 * A *fragment* is one transport frame body (what the frame codec emits):
 * `fragment header ++ fragment payload`. The payloads of a message's
 * fragments, in order, are the message.
 *
 * @module
 */

/**
 * What one fragment header says.
 *
 * For a non-multiplexed strategy (`multiplexed: false`) `msgId` and `seq` are
 * implied: the reassembler ignores what `decodeHeader` reports and uses
 * message 0 and the arrival order; the fragmenter passes `msgId: 0`.
 */
export interface FragmentMeta {
  /** Message the fragment belongs to (0 to `maxMsgId`). */
  msgId: number;
  /** Index of the fragment within its message: 0, 1, 2, … */
  seq: number;
  /** True on the last fragment of a message. */
  isFinal: boolean;
  /** Payload bytes in this fragment (the bytes after the header). */
  payloadLen: number;
  /**
   * Length of the whole message, if the header carries it. The fragmenter sets
   * it on seq 0; the reassembler uses it (from seq 0 only) to reject an
   * oversized message at once and to allocate the message buffer up front.
   */
  totalLen?: number;
}

/** `decodeHeader`'s answer when the bytes end before the header does. */
export interface NeedMoreHeader {
  /** Discriminant. */
  kind: "need-more";
}

/** `decodeHeader`'s answer for a complete header. */
export interface DecodedHeader {
  /** Discriminant. */
  kind: "header";
  /** What the header says. */
  meta: FragmentMeta;
  /** Bytes the header occupies at the start of the fragment. */
  headerLen: number;
}

/** Result of {@link FragmentStrategy.decodeHeader}. */
export type DecodeHeaderResult = NeedMoreHeader | DecodedHeader;

/**
 * A protocol's fragment header format. Implement it to plug your own format
 * into the {@link Fragmenter}, {@link Reassembler} and {@link FragmentAdapter};
 * `docs/fragmentation.md` has a complete example.
 *
 * Methods must be synchronous and must not keep references to the arrays they
 * are given. `frame` is always the whole logical message being fragmented, so
 * the header and the fragment size may depend on its content (e.g. a message
 * type in its first byte).
 *
 * @example A 1-byte header: bit 7 = final, no msgId, sequence implied by order
 * ```ts
 * import assert from "node:assert/strict";
 * import { Fragmenter, type FragmentStrategy, Reassembler } from "@wireframe/wireframe/fragment";
 *
 * const oneByte: FragmentStrategy = {
 *   multiplexed: false,
 *   decodeHeader: (bytes) =>
 *     bytes.length < 1 ? { kind: "need-more" } : {
 *       kind: "header",
 *       headerLen: 1,
 *       meta: { msgId: 0, seq: 0, isFinal: (bytes[0]! & 0x80) !== 0, payloadLen: bytes.length - 1 },
 *     },
 *   headerLength: () => 1,
 *   encodeHeaderInto(meta, _frame, target, offset) {
 *     target[offset] = meta.isFinal ? 0x80 : 0;
 *     return 1;
 *   },
 *   maxFragmentPayload: () => 1024,
 * };
 *
 * const fragments: Uint8Array[] = [];
 * new Fragmenter(oneByte).split(new Uint8Array(2_500).fill(7), (f) => fragments.push(f));
 * assert.deepEqual(fragments.map((f) => [f[0], f.length]), [[0, 1025], [0, 1025], [0x80, 453]]);
 * const messages: Uint8Array[] = [];
 * const reassembler = new Reassembler(oneByte);
 * for (const f of fragments) reassembler.push(f, 0, (message) => messages.push(message));
 * assert.deepEqual(messages, [new Uint8Array(2_500).fill(7)]);
 * ```
 */
export interface FragmentStrategy {
  /**
   * True if headers carry a message id and sequence number, so fragments of
   * several messages may interleave. False: one message at a time, `msgId` is
   * implied 0 and `seq` is implied by arrival order.
   */
  readonly multiplexed: boolean;
  /**
   * Largest message id the header can carry (inclusive); the fragmenter
   * allocates 0, 1, 2, … and wraps to 0 after it. Default `0xFFFF_FFFF`.
   */
  readonly maxMsgId?: number;
  /**
   * Read the header at the start of `bytes` (a whole fragment body). Return
   * `{ kind: "need-more" }` if `bytes` ends inside the header, or throw a
   * `FragmentError` (e.g. `MalformedFragmentError`) for a header that is invalid.
   * `meta.payloadLen` must be what the header declares; the reassembler checks
   * it against the bytes that actually follow.
   */
  decodeHeader(bytes: Uint8Array): DecodeHeaderResult;
  /** Bytes {@link FragmentStrategy.encodeHeaderInto} writes for `meta`. */
  headerLength(meta: FragmentMeta, frame: Uint8Array): number;
  /**
   * Write the header for `meta` into `target` at `offset`; returns the bytes
   * written (must equal `headerLength(meta, frame)`). `frame` is the logical
   * message being fragmented.
   */
  encodeHeaderInto(
    meta: FragmentMeta,
    frame: Uint8Array,
    target: Uint8Array,
    offset: number,
  ): number;
  /**
   * Largest payload per fragment for `frame` (an integer ≥ 1). A message no
   * longer than this is sent as one final fragment (shorter than this, with
   * {@link FragmentStrategy.continuesWhenFull}).
   */
  maxFragmentPayload(frame: Uint8Array): number;
  /**
   * True if a fragment of exactly `maxFragmentPayload(frame)` payload bytes
   * always means that more follow, so the final fragment is always shorter
   * (MySQL's 0xFFFFFF packets): the fragmenter then ends a message whose
   * length is a multiple of it with an empty final fragment, and
   * `singleFragment.maxLength` must be below it. Default false.
   */
  readonly continuesWhenFull?: boolean;
  /**
   * A strategy whose headers carry state of the connection (MySQL's sequence
   * id, which both directions count) returns a fresh instance here; the
   * server and the client call it once per connection and use that instance
   * for both the fragmenter and the re-assembler of the connection. Without
   * it, one instance serves every connection and must keep no state.
   */
  forConnection?(): FragmentStrategy;
  /**
   * For a strategy with per-connection state: called once per inbound
   * message, in arrival order, when the connection takes it up — the server
   * once the previous command has finished (its frames are written), the
   * client as it dispatches it — just before the serializer decodes it.
   * `decodeHeader` may run far ahead (a peer that pipelines: several
   * commands in one read), so state that the next outbound headers depend on
   * (the sequence id a reply continues, in MySQL) changes here, not there.
   */
  messageTakenUp?(): void;
  /**
   * Optional fast path for the common case, a message sent as one final
   * fragment. Provide it when the rules for such a message depend only on its
   * length (not on its bytes): then a server or client writes the message
   * straight into its output buffer behind the header, and the
   * {@link Reassembler} hands it on without decoding a {@link FragmentMeta}.
   * It must agree with the general methods, which handle everything else.
   */
  readonly singleFragment?: SingleFragmentCodec;
}

/**
 * The fast path of a {@link FragmentStrategy} for a message sent as one final
 * fragment (`seq` 0, `isFinal`, `totalLen` = `payloadLen` = the message
 * length), for strategies whose header for such a message has a fixed length
 * and does not depend on the message's bytes. It must agree with the
 * strategy's general methods, which handle everything else. Methods must be
 * synchronous and must not throw.
 *
 * @example The fast path of a 1-byte header (bit 7 = final, 1 KiB fragments)
 * ```ts
 * import assert from "node:assert/strict";
 * import type { SingleFragmentCodec } from "@wireframe/wireframe/fragment";
 *
 * const single: SingleFragmentCodec = {
 *   headerLength: 1,
 *   maxLength: 1024,
 *   encodeHeaderInto(_length, _msgId, target, offset) {
 *     target[offset] = 0x80;
 *     return 1;
 *   },
 *   isWholeMessage: (bytes, start, end) => end > start && bytes[start] === 0x80,
 * };
 *
 * const fragment = new Uint8Array(1 + 2);
 * assert.equal(single.encodeHeaderInto(2, 0, fragment, 0), single.headerLength);
 * fragment.set([1, 2], 1);
 * assert.deepEqual(fragment, Uint8Array.of(0x80, 1, 2));
 * assert.equal(single.isWholeMessage(fragment, 0, fragment.length), true);
 * ```
 */
export interface SingleFragmentCodec {
  /** Bytes of the header of every message sent as one fragment (an integer ≥ 0). */
  readonly headerLength: number;
  /**
   * Longest message sent as one fragment: what `maxFragmentPayload` returns
   * for every message (an integer ≥ 0).
   */
  readonly maxLength: number;
  /**
   * Write the header of a message of `length` bytes (at most `maxLength`),
   * message id `msgId`, sent as one final fragment, at `offset` in `target`
   * (which has room for it); returns the bytes written, `headerLength`.
   */
  encodeHeaderInto(length: number, msgId: number, target: Uint8Array, offset: number): number;
  /**
   * True if the fragment `bytes[start, end)` is one whole, valid message on
   * its own: a `headerLength`-byte header of the first fragment of a message,
   * final, declaring exactly the bytes that follow it. False sends it down the
   * general {@link FragmentStrategy.decodeHeader} path, which decides (and
   * reports errors). A span, not a view, so the common case allocates nothing.
   */
  isWholeMessage(bytes: Uint8Array, start: number, end: number): boolean;
}
