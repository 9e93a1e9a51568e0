/**
 * Typed errors raised while re-assembling fragments. All extend
 * {@link FragmentError}: every one is a protocol violation by the peer (or a
 * limit it breached), and the connection should be closed.
 *
 * @module
 */
import { WireframeBaseError } from "../error.ts";

/**
 * Base class of every re-assembly error. Switch on `code` or use `instanceof`
 * on a subclass: {@link MalformedFragmentError}, {@link FragmentSequenceError},
 * {@link MessageTooLargeError}, {@link TooManyMessagesError},
 * {@link ReassemblyBudgetError}, {@link ReassemblyTimeoutError},
 * {@link IncompleteMessageError}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FragmentError, LenFlag32K, Reassembler } from "@wireframe/wireframe/fragment";
 *
 * const reassembler = new Reassembler(new LenFlag32K());
 * assert.throws(
 *   () => reassembler.push(new Uint8Array([0x80, 0x05, 1]), 0, () => {}), // says 5 bytes, has 1
 *   (err) => err instanceof FragmentError && err.code === "ERR_MALFORMED_FRAGMENT",
 * );
 * ```
 */
export class FragmentError extends WireframeBaseError {}

/** Why a fragment is malformed; see {@link MalformedFragmentError}. */
export type MalformedFragmentReason =
  | "truncated-header"
  | "payload-length"
  | "reserved-flags"
  | "total-length"
  | "invalid-header";

/**
 * A fragment that cannot be read: shorter than its header
 * (`"truncated-header"`), a declared payload length other than the bytes that
 * follow (`"payload-length"`), reserved header bits set (`"reserved-flags"`), a
 * declared total length the payloads do not add up to (`"total-length"`), or a
 * header the strategy could not decode sensibly (`"invalid-header"`).
 */
export class MalformedFragmentError extends FragmentError {
  /** What is wrong with the fragment. */
  readonly reason: MalformedFragmentReason;

  /**
   * Create the error; `reason` sets the field of that name.
   *
   * @param detail human-readable detail
   * @param options standard `ErrorOptions` (`cause` for a strategy's own error)
   */
  constructor(reason: MalformedFragmentReason, detail: string, options?: ErrorOptions) {
    super("ERR_MALFORMED_FRAGMENT", `malformed fragment (${reason}): ${detail}`, options);
    this.reason = reason;
  }
}

/** `"gap"`: fragments are missing; `"reorder"`: a continuation came before its message began. */
export type FragmentSequenceReason = "gap" | "reorder";

/**
 * A fragment out of sequence. `"gap"`: its `seq` is ahead of the next expected
 * one (fragments are missing). `"reorder"`: a continuation (`seq > 0`) arrived
 * for a message with nothing in progress — its first fragment has not arrived
 * (or the message already completed or was dropped). The partial message is
 * dropped. Duplicates (`seq` below the next expected) are ignored, not errors.
 */
export class FragmentSequenceError extends FragmentError {
  /** Which sequence rule was broken. */
  readonly reason: FragmentSequenceReason;
  /** Message the fragment belongs to. */
  readonly msgId: number;
  /** The `seq` that was expected next. */
  readonly expectedSeq: number;
  /** The `seq` that arrived. */
  readonly seq: number;

  /**
   * Create the error; each argument sets the field of the same name.
   */
  constructor(reason: FragmentSequenceReason, msgId: number, expectedSeq: number, seq: number) {
    super(
      "ERR_FRAGMENT_SEQUENCE",
      `fragment sequence ${reason} in message ${msgId}: expected seq ${expectedSeq}, got ${seq}`,
    );
    this.reason = reason;
    this.msgId = msgId;
    this.expectedSeq = expectedSeq;
    this.seq = seq;
  }
}

/**
 * A message would exceed `maxMessageSize`: raised before the fragment that
 * would cross the limit is appended, or at once for a larger declared total.
 */
export class MessageTooLargeError extends FragmentError {
  /** Message the fragment belongs to. */
  readonly msgId: number;
  /** Bytes the message would hold with this fragment, or its declared total. */
  readonly messageSize: number;
  /** The configured limit. */
  readonly maxMessageSize: number;

  /**
   * Create the error; each argument sets the field of the same name.
   */
  constructor(msgId: number, messageSize: number, maxMessageSize: number) {
    super(
      "ERR_MESSAGE_TOO_LARGE",
      `message ${msgId} of ${messageSize} bytes exceeds maxMessageSize ${maxMessageSize}`,
    );
    this.msgId = msgId;
    this.messageSize = messageSize;
    this.maxMessageSize = maxMessageSize;
  }
}

/** A new message would exceed `maxConcurrentMessages` partial messages. */
export class TooManyMessagesError extends FragmentError {
  /** The message that could not be started. */
  readonly msgId: number;
  /** The configured limit. */
  readonly maxConcurrentMessages: number;

  /**
   * Create the error; each argument sets the field of the same name.
   */
  constructor(msgId: number, maxConcurrentMessages: number) {
    super(
      "ERR_TOO_MANY_MESSAGES",
      `message ${msgId} would exceed maxConcurrentMessages ${maxConcurrentMessages}`,
    );
    this.msgId = msgId;
    this.maxConcurrentMessages = maxConcurrentMessages;
  }
}

/**
 * Holding a fragment would push the connection's charged bytes (held memory
 * plus `fragmentOverhead` per held fragment) above `maxBufferedBytes`.
 */
export class ReassemblyBudgetError extends FragmentError {
  /** Message the fragment belongs to. */
  readonly msgId: number;
  /** Charged bytes the connection would reach. */
  readonly chargedBytes: number;
  /** The configured limit. */
  readonly maxBufferedBytes: number;

  /**
   * Create the error; each argument sets the field of the same name.
   */
  constructor(msgId: number, chargedBytes: number, maxBufferedBytes: number) {
    super(
      "ERR_REASSEMBLY_BUDGET",
      `holding a fragment of message ${msgId} would charge ${chargedBytes} bytes, ` +
        `above maxBufferedBytes ${maxBufferedBytes}`,
    );
    this.msgId = msgId;
    this.chargedBytes = chargedBytes;
    this.maxBufferedBytes = maxBufferedBytes;
  }
}

/** A partial message was not completed within `reassemblyTimeoutMs` of its first fragment. */
export class ReassemblyTimeoutError extends FragmentError {
  /** The (oldest) expired message. */
  readonly msgId: number;
  /** Milliseconds since its first fragment. */
  readonly ageMs: number;
  /** The configured limit. */
  readonly reassemblyTimeoutMs: number;
  /** Partial messages expired together with it (at least 1). */
  readonly expiredCount: number;

  /**
   * Create the error; each argument sets the field of the same name.
   */
  constructor(msgId: number, ageMs: number, reassemblyTimeoutMs: number, expiredCount = 1) {
    super(
      "ERR_REASSEMBLY_TIMEOUT",
      `message ${msgId} not completed ${ageMs} ms after its first fragment ` +
        `(reassemblyTimeoutMs ${reassemblyTimeoutMs}; ${expiredCount} expired)`,
    );
    this.msgId = msgId;
    this.ageMs = ageMs;
    this.reassemblyTimeoutMs = reassemblyTimeoutMs;
    this.expiredCount = expiredCount;
  }
}

/** The fragment stream ended while partial messages were held. */
export class IncompleteMessageError extends FragmentError {
  /** Partial messages that were held. */
  readonly partialMessages: number;
  /** Payload bytes they held. */
  readonly bufferedBytes: number;

  /**
   * Create the error; each argument sets the field of the same name.
   */
  constructor(partialMessages: number, bufferedBytes: number) {
    super(
      "ERR_INCOMPLETE_MESSAGE",
      `input ended inside ${partialMessages} partial message(s) holding ${bufferedBytes} bytes`,
    );
    this.partialMessages = partialMessages;
    this.bufferedBytes = bufferedBytes;
  }
}
