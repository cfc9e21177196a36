import { test } from 'node:test'
import assert from 'node:assert/strict'
import protobuf from 'protobufjs'
import { getCodec } from '../../src/common/codec.js'

const codec = getCodec()
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')

/** A sample with every field set to a non-default value (oneofs: the first member only). */
function sample(type: protobuf.Type, depth = 0): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  const skip = new Set<string>()
  for (const oneof of type.oneofsArray) oneof.fieldsArray.slice(1).forEach((f) => skip.add(f.name))
  for (const field of type.fieldsArray) {
    if (skip.has(field.name)) continue
    field.resolve()
    let value: unknown
    if (field.resolvedType instanceof protobuf.Type) {
      if (depth > 3) continue
      value = sample(field.resolvedType, depth + 1)
    } else if (field.resolvedType instanceof protobuf.Enum) {
      const names = Object.keys(field.resolvedType.values)
      value = names[names.length - 1]
    } else {
      switch (field.type) {
        case 'string': value = `s-${field.name}-ü`; break
        case 'bytes': value = Buffer.from([0, 1, 2, 254, 255]); break
        case 'bool': value = true; break
        case 'int32': case 'sint32': case 'sfixed32': value = -7; break
        case 'uint32': case 'fixed32': value = 4_000_000_000; break
        case 'int64': case 'sint64': case 'sfixed64': value = '-9007199254740993'; break
        case 'uint64': case 'fixed64': value = '18446744073709551615'; break
        case 'double': value = 1.5; break
        case 'float': value = 0.25; break
        default: throw new Error(`unhandled type ${field.type} in ${type.fullName}.${field.name}`)
      }
    }
    out[field.name] = field.repeated ? [value, value] : value
  }
  return out
}

test('every message in proto/ round-trips with every field set', () => {
  const names = codec.messageNames()
  assert.ok(names.length >= 40, `only ${names.length} messages loaded`)
  for (const name of names) {
    const type = codec.type(name)
    const value = sample(type)
    const bytes = codec.encode(name, value)
    const back = codec.decode(name, bytes, { longs: String, enums: String, bytes: Buffer as never, defaults: false, arrays: true, oneofs: false })
    assert.deepEqual(JSON.parse(JSON.stringify(back)), JSON.parse(JSON.stringify(value)), name)
    assert.equal(hex(codec.encode(name, back)), hex(bytes), `${name} re-encodes to the same bytes`)
  }
})

test('the Walkie service lists every upstream method with its types', () => {
  const svc = codec.service('prb.WalkieRpc')
  const methods = Object.fromEntries(Object.values(svc.methods).map((m) => [m.name, [m.requestType, m.responseType]]))
  const expected: Record<string, [string, string]> = {
    Hello: ['WalkieSystemInfo', 'WalkieSystemInfo'],
    Auth: ['AuthRequest', 'AuthResponse'],
    GetDataProviderInfo: ['Empty', 'data_provider.Info'],
    GetBlobByKey: ['data_provider.GetBlobByKey', 'data_provider.RawBlob'],
    WantBlob: ['data_provider.WantBlob', 'data_provider.BlobMeta'],
    GetBlobWithToken: ['data_provider.GetBlob', 'data_provider.Blob'],
    ListPool: ['Empty', 'lifecycle.PoolList'],
    CreatePool: ['lifecycle.CreatePool', 'lifecycle.PoolList'],
    UpdatePool: ['lifecycle.UpdatePool', 'lifecycle.PoolList'],
    ListWorker: ['Empty', 'lifecycle.WorkerList'],
    CreateWorker: ['lifecycle.CreateWorker', 'lifecycle.WorkerList'],
    UpdateWorker: ['lifecycle.UpdateWorker', 'lifecycle.WorkerList'],
    RestartWorker: ['lifecycle.UuidQueryRequest', 'WorkerStateUpdate'],
    RefreshRaAndRestartWorker: ['lifecycle.UuidQueryRequest', 'WorkerStateUpdate'],
    KickWorker: ['lifecycle.UuidQueryRequest', 'WorkerStateUpdate'],
    GetWorkerStatus: ['lifecycle.UuidQueryRequest', 'WorkerStateUpdate'],
  }
  assert.deepEqual(Object.keys(methods).sort(), Object.keys(expected).sort())
  for (const [name, [req, res]] of Object.entries(expected)) {
    const m = svc.methods[name]!
    m.resolve()
    assert.equal(m.resolvedRequestType!.fullName, `.prb.${req}`, name)
    assert.equal(m.resolvedResponseType!.fullName, `.prb.${res}`, name)
  }
})

test('known bytes: an explicit proto3 false is written, as upstream writes it', () => {
  const bytes = codec.encode('prb.WalkieRpcResponseWrapper', { createdAt: 1, requestNonce: 'a', nonce: 'b', hasError: false })
  assert.equal(hex(bytes), '08011201611a01622800')
})

test('known bytes: data provider Info, enums and field 12', () => {
  const bytes = codec.encode('prb.data_provider.Info', { status: 'S_IDLE', paraId: 2035, blobServerPort: 8012 })
  assert.equal(hex(bytes), '0802' + '10f30f' + '60cc3e')
  const back = codec.decode('prb.data_provider.Info', bytes)
  assert.equal(back.status, 'S_IDLE')
  assert.equal(back.parentTarget, 0)
  assert.equal(codec.enum('prb.data_provider.Status').values.S_SYHCHING, 1)
})

test('known bytes: a negative int32 window stop is a 10-byte varint', () => {
  const bytes = codec.encode('prb.db.Window', { parentStartBlock: 5, parentStopBlock: -1 })
  assert.equal(hex(bytes), '0805' + '10ffffffffffffffffff01')
})

test('known bytes: worker state and a oneof identity', () => {
  const id = codec.encode('prb.PoolOrWorkerQueryIdentity', { pid: 2 })
  assert.equal(hex(id), '1802')
  const ws = codec.encode('prb.WorkerState', { status: 'S_ACTIVE', publicKey: 'ab' })
  assert.equal(hex(ws), '0805' + '42026162')
})

test('a malformed message gives a CodecError naming the type', () => {
  assert.throws(() => codec.decode('prb.WalkieRpcRequestWrapper', Uint8Array.from([0x0a, 0xff, 0xff])), /malformed prb\.WalkieRpcRequestWrapper \(3 bytes\)/)
  assert.throws(() => codec.type('prb.Nope'), /unknown protobuf message "prb.Nope"/)
})

test('pRuntime prpc messages carry the field numbers the bridge uses', () => {
  const info = codec.type('pruntime_rpc.PhactoryInfo')
  const num = (t: protobuf.Type, f: string) => t.fields[f]!.id
  assert.equal(num(info, 'headernum'), 7)
  assert.equal(num(info, 'paraHeadernum'), 8)
  assert.equal(num(info, 'blocknum'), 9)
  assert.equal(num(info, 'memoryUsage'), 18)
  const init = codec.type('pruntime_rpc.InitRuntimeRequest')
  assert.equal(num(init, 'encodedGenesisInfo'), 2)
  assert.equal(num(init, 'encodedOperator'), 5)
  assert.equal(num(init, 'isParachain'), 6)
  assert.equal(num(codec.type('prpc.PrpcError'), 'message'), 1)
})
