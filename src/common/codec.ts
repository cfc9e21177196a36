import protobuf from 'protobufjs'
import { readdirSync, statSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

/** `proto/` at the repository root, from `src/common/` (tsx) and from `dist/common/` alike. */
export const PROTO_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'proto')

/** The options prb uses to turn a decoded message into a plain object (upstream's db_encoding). */
export const PLAIN_OBJECT: protobuf.IConversionOptions = {
  defaults: true,
  arrays: true,
  objects: true,
  oneofs: true,
  longs: Number,
  enums: String,
}

/** The options of protobuf JSON as the monitor shows it: camelCase, uint64 as strings, enums as names. */
export const JSON_OBJECT: protobuf.IConversionOptions = {
  longs: String,
  enums: String,
  bytes: String,
  json: true,
}

function listProtoFiles(dir: string): string[] {
  const out: string[] = []
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name)
    if (statSync(p).isDirectory()) out.push(...listProtoFiles(p))
    else if (name.endsWith('.proto')) out.push(p)
  }
  return out
}

export class CodecError extends Error {
  override name = 'CodecError'
  readonly code = 'ERR_CODEC'
}

/**
 * Every wire format of prb lives in `proto/`; this is the one module that loads and applies them.
 * Field names are camelCase in code and JSON, as with upstream's `pbjs -t json`.
 */
export class Codec {
  readonly root: protobuf.Root

  constructor(protoDir: string = PROTO_DIR) {
    const files = listProtoFiles(protoDir)
    if (files.length === 0) throw new CodecError(`no .proto files under ${protoDir}; the proto/ folder must ship beside dist/`)
    this.root = new protobuf.Root()
    this.root.resolvePath = (origin, target) => {
      // imports are written relative to proto/, as in upstream's tree
      const local = resolve(protoDir, target)
      return statSafe(local) ? local : protobuf.util.path.resolve(origin, target)
    }
    this.root.loadSync(files, { keepCase: false })
    this.root.resolveAll()
  }

  type(name: string): protobuf.Type {
    try {
      return this.root.lookupType(name)
    } catch {
      throw new CodecError(`unknown protobuf message "${name}"`)
    }
  }

  enum(name: string): protobuf.Enum {
    return this.root.lookupEnum(name)
  }

  service(name: string): protobuf.Service {
    return this.root.lookupService(name)
  }

  /** Encode a plain object (camelCase fields; uint64 as number, string or Long; enums as names or numbers). */
  encode(name: string, value: object): Uint8Array {
    const type = this.type(name)
    const err = type.verify(type.fromObject(value as Record<string, unknown>))
    if (err) throw new CodecError(`invalid ${name}: ${err}`)
    return type.encode(type.fromObject(value as Record<string, unknown>)).finish()
  }

  /** Encode a message instance as is: fields set explicitly to their default are still written. */
  encodeMessage(name: string, message: protobuf.Message | Record<string, unknown>): Uint8Array {
    return this.type(name).encode(message).finish()
  }

  decode<T = Record<string, unknown>>(name: string, bytes: Uint8Array, options: protobuf.IConversionOptions = PLAIN_OBJECT): T {
    const type = this.type(name)
    let msg: protobuf.Message
    try {
      msg = type.decode(bytes)
    } catch (e) {
      throw new CodecError(`malformed ${name} (${bytes.length} bytes): ${(e as Error).message}`)
    }
    return type.toObject(msg, options) as T
  }

  toJSON(name: string, bytes: Uint8Array): Record<string, unknown> {
    return this.decode(name, bytes, JSON_OBJECT)
  }

  /** Message names of every type under a package (for round-trip tests and tools). */
  messageNames(): string[] {
    const out: string[] = []
    const walk = (ns: protobuf.NamespaceBase) => {
      for (const obj of ns.nestedArray) {
        if (obj instanceof protobuf.Type) out.push(obj.fullName.replace(/^\./, ''))
        if (obj instanceof protobuf.Namespace || obj instanceof protobuf.Type) walk(obj)
      }
    }
    walk(this.root)
    return out
  }
}

function statSafe(p: string): boolean {
  try {
    return statSync(p).isFile()
  } catch {
    return false
  }
}

let shared: Codec | undefined
/** The codec over the shipped `proto/` folder; schemas are immutable, so one instance serves all. */
export function getCodec(): Codec {
  shared ??= new Codec()
  return shared
}
