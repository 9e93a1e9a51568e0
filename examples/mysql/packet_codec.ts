/**
 * MySQL packet framing: a 3-byte little-endian payload length, then the
 * sequence id, then the payload. The library's `LengthDelimitedCodec` does
 * the framing; the frame body is `sequence id ++ payload`, whose first byte
 * the {@link MysqlPacketStrategy} owns.
 *
 * @module
 */
import { LengthDelimitedCodec } from "@wireframe/wireframe/codec";

/** Largest payload of one packet: 2^24 − 1; a packet this full continues in the next. */
export const MAX_PACKET_PAYLOAD = 0xff_ffff;

/**
 * The codec of MySQL packets: `payloadLength:u24le sequenceId:u8 payload`.
 * The length counts the payload only, so the body (sequence id and payload)
 * is one byte longer than the field says.
 */
export function mysqlPacketCodec(): LengthDelimitedCodec {
  return new LengthDelimitedCodec({
    lengthFieldLength: 3,
    byteOrder: "little",
    lengthAdjustment: 1,
    maxFrameLength: MAX_PACKET_PAYLOAD + 1,
  });
}
