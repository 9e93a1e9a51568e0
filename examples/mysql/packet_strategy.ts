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
 * its own instance (`forConnection`): an inbound packet sets the counter,
 * every outbound packet takes it. An inbound id that is neither 0 (a new
 * command) nor the next one is a `FragmentSequenceError` ("packets out of
 * order"), which closes the connection.
 *
 * This numbering assumes what MySQL clients do: they wait for a command's
 * replies before they send the next command (no pipelining).
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
  #next = 0;

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
        if (seq !== 0 && seq !== this.#next) return false; // decodeHeader reports it
        this.#next = (seq + 1) & 0xff;
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
    if (seq !== 0 && seq !== this.#next) {
      throw new FragmentSequenceError("gap", 0, this.#next, seq);
    }
    this.#next = (seq + 1) & 0xff;
    const payloadLen = bytes.length - 1;
    return {
      kind: "header",
      headerLen: 1,
      meta: { msgId: 0, seq: 0, isFinal: payloadLen < MAX_PACKET_PAYLOAD, payloadLen },
    };
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
