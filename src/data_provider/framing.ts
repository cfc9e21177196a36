/**
 * Length-prefixed frames of the TCP blob protocol (upstream-data-provider.md §7.1): an unsigned
 * LEB128 varint of the payload length, then the payload. Zero-length frames are skipped, as
 * upstream's decoder does.
 */
import { PrbError } from '../common/errors.js'

export class FrameError extends PrbError {
  override name = 'FrameError'
  constructor(message: string) {
    super('ERR_BAD_FRAME', message)
  }
}

/** A varint never needs more than 5 bytes for a length below 2^35; anything longer is garbage. */
const MAX_VARINT_BYTES = 5

export function encodeVarint(n: number): Buffer {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`varint: ${n} is not a non-negative safe integer`)
  const out: number[] = []
  let v = n
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80)
    v = Math.floor(v / 0x80)
  }
  out.push(v)
  return Buffer.from(out)
}

/**
 * Incremental frame decoder. `push` stores socket chunks; `next` returns one complete payload or
 * undefined, so a caller can stop pulling frames (backpressure) and resume later. A body split over
 * many chunks is copied once into its own buffer; a body inside one chunk is a zero-copy view.
 * Throws FrameError on a malformed length or one above `maxFrameBytes`, before buffering the body.
 */
export class FrameDecoder {
  readonly maxFrameBytes: number
  // Pending chunks are #chunks[#head..]; a head index instead of shift() keeps a body that arrives
  // in many tiny chunks linear to consume.
  #chunks: Buffer[] = []
  #head = 0
  #offset = 0 // into #chunks[#head]
  #available = 0
  #need: number | undefined

  constructor(maxFrameBytes: number) {
    this.maxFrameBytes = maxFrameBytes
  }

  /** Bytes received but not yet returned as frames. */
  get buffered(): number {
    return this.#available
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return
    this.#chunks.push(chunk)
    this.#available += chunk.length
  }

  next(): Buffer | undefined {
    for (;;) {
      if (this.#need === undefined) {
        const len = this.#readVarint()
        if (len === undefined) return undefined
        if (len === 0) continue
        this.#need = len
      }
      if (this.#available < this.#need) return undefined
      const frame = this.#take(this.#need)
      this.#need = undefined
      return frame
    }
  }

  #readVarint(): number | undefined {
    let value = 0
    let mul = 1
    let i = 0
    let ci = this.#head
    let off = this.#offset
    while (i < this.#available) {
      const chunk = this.#chunks[ci]!
      if (off >= chunk.length) {
        ci++
        off = 0
        continue
      }
      const byte = chunk[off]!
      off++
      i++
      value += (byte & 0x7f) * mul
      if (value > this.maxFrameBytes) throw new FrameError(`frame length ${value}+ exceeds the maximum of ${this.maxFrameBytes} bytes`)
      if ((byte & 0x80) === 0) {
        this.#skip(i)
        return value
      }
      mul *= 0x80
      if (i >= MAX_VARINT_BYTES) throw new FrameError(`frame length prefix longer than ${MAX_VARINT_BYTES} bytes`)
    }
    return undefined
  }

  #skip(n: number): void {
    this.#available -= n
    while (n > 0) {
      const chunk = this.#chunks[this.#head]!
      const left = chunk.length - this.#offset
      if (n < left) {
        this.#offset += n
        return
      }
      n -= left
      this.#head++
      this.#offset = 0
    }
    if (this.#head === this.#chunks.length) {
      this.#chunks = []
      this.#head = 0
    } else if (this.#head > 1024 && this.#head * 2 > this.#chunks.length) {
      this.#chunks = this.#chunks.slice(this.#head)
      this.#head = 0
    }
  }

  #take(n: number): Buffer {
    const first = this.#chunks[this.#head]!
    if (first.length - this.#offset >= n) {
      const view = first.subarray(this.#offset, this.#offset + n)
      this.#skip(n)
      return view
    }
    const out = Buffer.allocUnsafe(n)
    let filled = 0
    while (filled < n) {
      const chunk = this.#chunks[this.#head]!
      const part = Math.min(n - filled, chunk.length - this.#offset)
      chunk.copy(out, filled, this.#offset, this.#offset + part)
      filled += part
      this.#skip(part)
    }
    return out
  }
}
