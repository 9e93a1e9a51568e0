/**
 * MySQL's sequence id and 0xFFFFFF continuation as a `FragmentStrategy`.
 *
 * @module
 */
import {
  type DecodeHeaderResult,
  type FragmentMeta,
  FragmentSequenceError,
  type FragmentStrategy,
  type SingleFragmentCodec,
} from "@wireframe/wireframe/fragment";
import { MAX_PACKET_PAYLOAD } from "./packet_codec.ts";

const NEED_MORE: DecodeHeaderResult = Object.freeze({ kind: "need-more" });

/**
 * The fragment header of a MySQL packet is its sequence id (one byte). A
 * payload of 0xFFFFFF bytes continues in the next packet, so a message of a
 * multiple of that length ends with an empty packet (`continuesWhenFull`).
 *
 * The sequence id is connection state both directions count: the client
 * starts a command at 0, every packet after it, either way, takes the next
 * number (mod 256), and the server's greeting is 0. So each connection gets
 * its own instance (`forConnection`). A reply continues from the last packet
 * of the message it answers: the counter moves when the connection takes a
 * message up (`messageTakenUp`), not when its header is decoded, so commands
 * a client pipelines do not renumber the replies to earlier ones.
 *
 * An inbound id that is neither 0 (a new command), nor the one after the
 * packet before it, nor the one after our last packet is a
 * `FragmentSequenceError` ("packets out of order"), which closes the
 * connection.
 */
export class MysqlPacketStrategy implements FragmentStrategy {
  /** One message at a time. */
  readonly multiplexed: false = false;
  /** No message ids. */
  readonly maxMsgId: number = 0;
  /** A full (0xFFFFFF) packet means more follow. */
  readonly continuesWhenFull: true = true;
  /** Messages shorter than 0xFFFFFF bytes are one packet; the header is one byte. */
  readonly singleFragment: SingleFragmentCodec;
  /** The sequence id of our next packet. */
  #next = 0;
  /** The id after the last inbound packet decoded. */
  #afterDecoded = 0;
  /** Per message decoded and not taken up yet: the id after its last packet. */
  readonly #arrivals: number[] = [];

  constructor() {
    this.singleFragment = {
      headerLength: 1,
      maxLength: MAX_PACKET_PAYLOAD - 1,
      encodeHeaderInto: (_length, _msgId, target, offset) => {
        target[offset] = this.#take();
        return 1;
      },
      isWholeMessage: (bytes, start, end) => {
        const length = end - start - 1;
        if (length < 0 || length >= MAX_PACKET_PAYLOAD) return false;
        const seq = bytes[start]!;
        if (!this.#inOrder(seq)) return false; // decodeHeader reports it
        this.#decoded(seq, true);
        return true;
      },
    };
  }

  /** A fresh counter for one connection. */
  forConnection(): MysqlPacketStrategy {
    return new MysqlPacketStrategy();
  }

  /** The sequence id the next outbound packet gets. */
  get nextSequenceId(): number {
    return this.#next;
  }

  /**
   * Read the sequence id; a full payload is not final.
   *
   * @throws {FragmentSequenceError} for an id out of order
   */
  decodeHeader(bytes: Uint8Array): DecodeHeaderResult {
    if (bytes.length < 1) return NEED_MORE;
    const seq = bytes[0]!;
    if (!this.#inOrder(seq)) {
      throw new FragmentSequenceError("gap", 0, this.#afterDecoded, seq);
    }
    const payloadLen = bytes.length - 1;
    const isFinal = payloadLen < MAX_PACKET_PAYLOAD;
    this.#decoded(seq, isFinal);
    return { kind: "header", headerLen: 1, meta: { msgId: 0, seq: 0, isFinal, payloadLen } };
  }

  /** The connection took the next message up: our replies continue from its last packet. */
  messageTakenUp(): void {
    const next = this.#arrivals.shift();
    if (next !== undefined) this.#next = next;
  }

  #inOrder(seq: number): boolean {
    return seq === 0 || seq === this.#afterDecoded || seq === this.#next;
  }

  #decoded(seq: number, isFinal: boolean): void {
    this.#afterDecoded = (seq + 1) & 0xff;
    if (isFinal) this.#arrivals.push(this.#afterDecoded);
  }

  /** Always 1. */
  headerLength(_meta: FragmentMeta, _frame: Uint8Array): number {
    return 1;
  }

  /** Write the next sequence id. */
  encodeHeaderInto(
    _meta: FragmentMeta,
    _frame: Uint8Array,
    target: Uint8Array,
    offset: number,
  ): number {
    target[offset] = this.#take();
    return 1;
  }

  /** 0xFFFFFF. */
  maxFragmentPayload(_frame: Uint8Array): number {
    return MAX_PACKET_PAYLOAD;
  }

  #take(): number {
    const seq = this.#next;
    this.#next = (seq + 1) & 0xff;
    return seq;
  }
}
