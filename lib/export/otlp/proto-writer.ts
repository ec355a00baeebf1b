/**
 * Protocol Buffers wire encoding into one growing buffer, kept between exports. A nested
 * message reserves the bytes its length will most likely take, is written in place, and is
 * moved only when the length turns out to need more or fewer bytes: one pass, no size
 * estimate and no intermediate objects.
 */
export class ProtoWriter {
  buffer = Buffer.allocUnsafe(64 * 1024);
  pos = 0;

  reset(): void {
    this.pos = 0;
  }

  /** A copy of what was written, for the transport to keep while the writer is reused. */
  finish(): Uint8Array {
    const copy = Buffer.allocUnsafe(this.pos);
    this.buffer.copy(copy, 0, 0, this.pos);
    return copy;
  }

  ensure(bytes: number): void {
    if (this.pos + bytes <= this.buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.pos + bytes));
    this.buffer.copy(grown, 0, 0, this.pos);
    this.buffer = grown;
  }

  /** A field's tag: (field << 3) | wire type, for field numbers below 16 one byte. */
  tag(field: number, wireType: number): void {
    this.varint32((field << 3) | wireType);
  }

  varint32(value: number): void {
    this.ensure(5);
    const buffer = this.buffer;
    let v = value >>> 0;
    while (v > 0x7f) {
      buffer[this.pos++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    buffer[this.pos++] = v;
  }

  /** An int64 varint from a JS integer (negative ones in two's complement, ten bytes). */
  int64(value: number): void {
    if (value >= 0 && value <= 0xffffffff) return this.varint32(value);
    this.ensure(10);
    let big = BigInt.asUintN(64, BigInt(value));
    const buffer = this.buffer;
    while (big > 0x7fn) {
      buffer[this.pos++] = Number(big & 0x7fn) | 0x80;
      big >>= 7n;
    }
    buffer[this.pos++] = Number(big);
  }

  fixed32(value: number): void {
    this.ensure(4);
    this.buffer.writeUInt32LE(value >>> 0, this.pos);
    this.pos += 4;
  }

  double(value: number): void {
    this.ensure(8);
    this.buffer.writeDoubleLE(value, this.pos);
    this.pos += 8;
  }

  /** A length-delimited UTF-8 string. */
  string(text: string): void {
    const length = text.length;
    if (length < 64) {
      this.ensure(length + 1);
      const buffer = this.buffer;
      const start = this.pos;
      let i = 0;
      for (; i < length; i++) {
        const code = text.charCodeAt(i);
        if (code > 0x7f) break;
        buffer[start + 1 + i] = code;
      }
      if (i === length) {
        buffer[start] = length;
        this.pos = start + 1 + length;
        return;
      }
    }
    const bytes = Buffer.byteLength(text);
    this.varint32(bytes);
    this.ensure(bytes);
    this.pos += this.buffer.write(text, this.pos, bytes, 'utf8');
  }

  /** Length-delimited bytes from an id's lowercase hex digits (as the API keeps trace and span ids). */
  hexBytes(hex: string): void {
    const bytes = hex.length >>> 1;
    this.ensure(bytes + 1);
    const buffer = this.buffer;
    buffer[this.pos++] = bytes;
    for (let i = 0; i < hex.length; i += 2) {
      buffer[this.pos++] = (nibble(hex.charCodeAt(i)) << 4) | nibble(hex.charCodeAt(i + 1));
    }
  }

  bytes(value: Uint8Array): void {
    this.varint32(value.length);
    this.raw(value);
  }

  /** Bytes encoded earlier (a key, a resource, a scope), copied as they are. */
  raw(encoded: Uint8Array): void {
    const length = encoded.length;
    this.ensure(length);
    if (length > 32) {
      this.buffer.set(encoded, this.pos);
      this.pos += length;
      return;
    }
    // a short copy is cheaper in JavaScript than through the native set()
    const buffer = this.buffer;
    let pos = this.pos;
    for (let i = 0; i < length; i++) buffer[pos++] = encoded[i] as number;
    this.pos = pos;
  }

  /** Starts a nested message whose length will probably fit `reserve` varint bytes; pass the result to end(). */
  begin(reserve: 1 | 2): number {
    this.ensure(reserve);
    this.pos += reserve;
    return this.pos;
  }

  end(bodyStart: number, reserve: 1 | 2): void {
    const length = this.pos - bodyStart;
    const needed = length < 0x80 ? 1 : length < 0x4000 ? 2 : length < 0x200000 ? 3 : length < 0x10000000 ? 4 : 5;
    let at = bodyStart - reserve;
    if (needed !== reserve) {
      this.ensure(needed - reserve);
      this.buffer.copyWithin(at + needed, bodyStart, this.pos);
      this.pos += needed - reserve;
    }
    const buffer = this.buffer;
    let v = length;
    while (v > 0x7f) {
      buffer[at++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    buffer[at] = v;
  }
}

/** One hex digit's value (0-9, a-f, A-F). */
function nibble(code: number): number {
  return code < 58 ? code - 48 : (code | 0x20) - 87;
}
