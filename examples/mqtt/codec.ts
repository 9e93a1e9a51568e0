/**
 * MQTT's framing on the library's `VarintLengthCodec`: a one-byte fixed
 * header (packet type, flags), then the remaining length in 1 to 4 bytes
 * (at most 268,435,455). A fifth length byte, flags the packet type does not
 * allow (§2.2.2), a reserved type, or a packet over the broker's limit
 * closes the connection before any body byte is buffered.
 *
 * @module
 */
import type { Envelope, Serializer } from "@wireframe/wireframe";
import { VarintLengthCodec } from "@wireframe/wireframe/codec";
import { PUBLISH, PUBREL, SUBSCRIBE, UNSUBSCRIBE } from "./packets.ts";

/** The largest remaining length MQTT 3.1.1 can express (§2.2.3). */
export const MAX_REMAINING_LENGTH = 268_435_455;

/**
 * Why a fixed header is refused, or `undefined`: types 0 and 15 are
 * reserved; PUBREL, SUBSCRIBE and UNSUBSCRIBE carry flags 0b0010; PUBLISH
 * any flags but QoS 3; every other type 0 [MQTT-2.2.2-1, MQTT-2.2.2-2,
 * MQTT-3.3.1-4].
 */
export function checkFixedHeader(header: Uint8Array): string | undefined {
  const type = header[0]! >> 4;
  const flags = header[0]! & 0x0f;
  if (type === 0 || type === 15) return `reserved packet type ${type}`;
  if (type === PUBLISH) return (flags & 0x06) === 0x06 ? "PUBLISH with QoS 3" : undefined;
  const expected = type === PUBREL || type === SUBSCRIBE || type === UNSUBSCRIBE ? 0x02 : 0;
  return flags === expected ? undefined : `flags ${flags} on packet type ${type}`;
}

/** MQTT framing, refusing packets whose remaining length exceeds `maxPacketSize`. */
export function mqttCodec(maxPacketSize: number = MAX_REMAINING_LENGTH): VarintLengthCodec {
  return new VarintLengthCodec({
    fixedHeaderLength: 1,
    maxLengthBytes: 4,
    maxFrameLength: maxPacketSize,
    checkHeader: checkFixedHeader,
  });
}

/**
 * A packet is its own envelope: the message id is the packet type (so the
 * router dispatches on it), the payload the whole packet; encode sends the
 * payload as it is (a whole packet).
 */
export const mqttSerializer: Serializer = {
  decode: (frame: Uint8Array): Envelope => ({ id: frame[0]! >> 4, payload: frame }),
  encode: (envelope: Envelope) => envelope.payload,
};
