// bench/abuse: the wire format and client connections shared by run.mjs and
// probe.mjs (the latency probe runs in a process of its own, see probe.mjs).
import net from "node:net";

export const HOST = "127.0.0.1";

// ---------------------------------------------------------------------------
// Wire format: frame := length:u32be body; body := id:u32be flags:u8
// [correlation:u64be] payload (flags bit 0 = correlation present).

export const u32 = (n) => {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(n >>> 0, 0);
  return b;
};

/** A request frame: `id`, correlation always present. */
export function encodeRequest(id, correlation, payload) {
  const frame = Buffer.allocUnsafe(17 + payload.length);
  frame.writeUInt32BE(13 + payload.length, 0);
  frame.writeUInt32BE(id, 4);
  frame[8] = 1;
  frame.writeUInt32BE(Math.floor(correlation / 2 ** 32), 9);
  frame.writeUInt32BE(correlation >>> 0, 13);
  payload.copy(frame, 17);
  return frame;
}

/** 13-byte body whose flags set bit 1: a malformed envelope, a protocol violation. */
export const MALFORMED_FRAME = (() => {
  const frame = Buffer.alloc(17);
  frame.writeUInt32BE(13, 0);
  frame.writeUInt32BE(1, 4);
  frame[8] = 0x02;
  return frame;
})();

// Frame fields, given the buffer and the body's [start, end).
export const frameId = (buf, start) => buf.readUInt32BE(start);
export const frameCorrelation = (buf, start) =>
  buf[start + 4] & 1 ? buf.readUInt32BE(start + 5) * 2 ** 32 + buf.readUInt32BE(start + 9) : -1;
export const payloadStart = (buf, start) => start + 5 + (buf[start + 4] & 1 ? 8 : 0);

/**
 * Splits a byte stream into frames, calling onFrame(buf, bodyStart, bodyEnd)
 * for each. A partial frame is kept as a list of chunks and joined once it is
 * complete, so a 512 KiB frame arriving in 64 KiB reads is copied once, not
 * once per read. `pendingBytes === 0` means the bytes so far end exactly at a
 * frame boundary.
 */
export class FrameReader {
  constructor(onFrame) {
    this.onFrame = onFrame;
    this.parts = [];
    this.pendingBytes = 0;
    this.need = 4; // bytes the pending parts must reach before parsing is worth it
    this.frames = 0;
    this.bytes = 0;
  }

  push(chunk) {
    this.bytes += chunk.length;
    let buf = chunk;
    if (this.pendingBytes > 0) {
      this.parts.push(chunk);
      this.pendingBytes += chunk.length;
      if (this.pendingBytes < this.need) return;
      buf = Buffer.concat(this.parts, this.pendingBytes);
      this.parts = [];
      this.pendingBytes = 0;
    }
    let offset = 0;
    while (buf.length - offset >= 4) {
      const end = offset + 4 + buf.readUInt32BE(offset);
      if (end > buf.length) break;
      this.frames++;
      this.onFrame(buf, offset + 4, end);
      offset = end;
    }
    if (offset < buf.length) {
      const rest = buf.subarray(offset);
      this.parts = [rest];
      this.pendingBytes = rest.length;
      this.need = rest.length >= 4 ? 4 + rest.readUInt32BE(0) : 4;
    }
  }
}

// ---------------------------------------------------------------------------
// Client connections

/**
 * Connects to the server; the socket joins `cell.sockets` (if a cell is
 * given) so the cell can destroy whatever is left when it ends. Rejects after
 * `timeoutMs`.
 */
export function connect(port, cell, timeoutMs = 5000) {
  return new Promise((resolveConnect, rejectConnect) => {
    const socket = net.connect({ host: HOST, port });
    if (cell) {
      cell.sockets.add(socket);
      socket.once("close", () => cell.sockets.delete(socket));
    }
    // Always listen for errors: an unhandled socket error would end this process.
    socket.on("error", (error) => {
      socket.lastError ??= error.code ?? error.message;
    });
    socket.setNoDelay(true);
    const timer = setTimeout(() => {
      socket.destroy();
      rejectConnect(new Error("connect timeout"));
    }, timeoutMs);
    socket.once("connect", () => {
      clearTimeout(timer);
      resolveConnect(socket);
    });
    socket.once("error", (error) => {
      clearTimeout(timer);
      rejectConnect(error);
    });
  });
}

/**
 * Request/response over one socket, matched by correlation id. Frames that
 * answer no pending request (pushes, late answers) go to `onOther`.
 */
export class RpcConnection {
  constructor(socket, onOther = () => {}) {
    this.socket = socket;
    this.nextCorrelation = 1;
    this.waiting = new Map(); // correlation → settle(outcome)
    this.onOther = onOther;
    this.closed = false;
    this.reader = new FrameReader((buf, start, end) => {
      const settle = this.waiting.get(frameCorrelation(buf, start));
      if (settle) settle({ ok: true, buf, start, end });
      else this.onOther(buf, start, end);
    });
    socket.on("data", (chunk) => this.reader.push(chunk));
    socket.once("close", () => {
      this.closed = true;
      for (const settle of [...this.waiting.values()]) settle({ ok: false, why: "closed" });
    });
  }

  /** Resolves to { ok: true, buf, start, end } or { ok: false, why: "timeout" | "closed" }. */
  request(id, payload, timeoutMs) {
    if (this.closed) return Promise.resolve({ ok: false, why: "closed" });
    const correlation = this.nextCorrelation++;
    return new Promise((resolveRequest) => {
      const timer = setTimeout(() => settle({ ok: false, why: "timeout" }), timeoutMs);
      const settle = (outcome) => {
        clearTimeout(timer);
        this.waiting.delete(correlation);
        resolveRequest(outcome);
      };
      this.waiting.set(correlation, settle);
      this.socket.write(encodeRequest(id, correlation, payload));
    });
  }
}
