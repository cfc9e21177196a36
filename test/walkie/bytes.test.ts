import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import protobuf from 'protobufjs'
import { getCodec } from '../../src/common/codec.js'
import { encodeAs, encodeRequest, encodeResponse, decodeResponse, MethodTable } from '../../src/walkie/rpc.js'
import { swarmKeyFromSecret } from '../../src/walkie/psk.js'

const codec = getCodec()

/** [field number, wire type] of each top-level field, in order. */
function tags(bytes: Uint8Array): Array<[number, number]> {
  const r = protobuf.Reader.create(bytes)
  const out: Array<[number, number]> = []
  while (r.pos < r.len) {
    const t = r.uint32()
    out.push([t >>> 3, t & 7])
    r.skipType(t & 7)
  }
  return out
}

describe('walkie bytes on the wire (upstream compatible)', () => {
  it('the request envelope carries created_at, nonce, data, method as fields 1-4', () => {
    const bytes = encodeRequest(codec, 'GetBlobByKey', Uint8Array.from([0x0a, 0x01, 0x6b]), 'n-1')
    assert.deepEqual(tags(bytes), [[1, 0], [2, 2], [3, 2], [4, 2]])
    assert.ok(Buffer.from(bytes).subarray(-14).equals(Buffer.from('\x22\x0cGetBlobByKey', 'latin1')))
  })

  it('a success response writes has_error=false explicitly (0x28 0x00)', () => {
    const bytes = encodeResponse(codec, 'n-1', { data: Uint8Array.from([1, 2]) })
    assert.deepEqual(tags(bytes), [[1, 0], [2, 2], [3, 2], [4, 2], [5, 0]])
    assert.deepEqual([...bytes.subarray(-6)], [0x22, 0x02, 0x01, 0x02, 0x28, 0x00])
    const back = decodeResponse(codec, bytes)
    assert.equal(back.requestNonce, 'n-1')
    assert.equal(back.hasError, false)
    assert.equal(codec.toJSON('prb.WalkieRpcResponseWrapper', bytes).hasError, false)
  })

  it('an error response has no data and carries ResponseError{type, message} as field 6', () => {
    const bytes = encodeResponse(codec, 'n-2', { error: { type: 'NOT_FOUND', message: 'Handler not implemented.' } })
    assert.deepEqual(tags(bytes), [[1, 0], [2, 2], [3, 2], [5, 0], [6, 2]])
    const err = Buffer.concat([Buffer.from([0x28, 0x01, 0x32, 28, 0x08, 0x02, 0x12, 24]), Buffer.from('Handler not implemented.')])
    assert.ok(Buffer.from(bytes).subarray(-err.length).equals(err))
    assert.deepEqual(decodeResponse(codec, bytes).error, { type: 'NOT_FOUND', message: 'Handler not implemented.' })
  })

  it('Hello (WalkieSystemInfo) encodes to the known bytes', () => {
    const m = new MethodTable(codec).get('Hello')!
    const bytes = encodeAs(m.request, { hostname: 'vm', peerId: 'Qm1', role: 'WR_LIFECYCLE_MANAGER', chainIdentity: '0xab', bridgeIdentity: 'default' })
    assert.equal(Buffer.from(bytes).toString('hex'), '0a02766d1203516d311803' + '2204' + Buffer.from('0xab').toString('hex') + '2a07' + Buffer.from('default').toString('hex'))
  })

  it('RawBlob and WorkerList encode bytes and repeated messages as upstream', () => {
    const t = new MethodTable(codec)
    // as protobufjs 6 did: a field the handler sets (even to its default) is written, an absent one is not
    const blob = encodeAs(t.get('GetBlobByKey')!.response, { key: 'k', data: Buffer.from([0xde, 0xad]) })
    assert.equal(Buffer.from(blob).toString('hex'), '0a016b1a02dead')
    const explicit = encodeAs(t.get('GetBlobByKey')!.response, { key: 'k', empty: false, data: Buffer.from([0xde, 0xad]) })
    assert.equal(Buffer.from(explicit).toString('hex'), '0a016b10001a02dead')
    const list = encodeAs(t.get('CreateWorker')!.response, { workers: [{ pid: 2, name: 'a' }, { pid: 3 }] })
    assert.equal(Buffer.from(list).toString('hex'), '0a05' + '1002' + '1a0161' + '0a02' + '1003')
  })

  it('every WalkieRpc method of upstream resolves with its types', () => {
    const t = new MethodTable(codec)
    const expect: Record<string, [string, string]> = {
      Hello: ['prb.WalkieSystemInfo', 'prb.WalkieSystemInfo'],
      Auth: ['prb.AuthRequest', 'prb.AuthResponse'],
      GetDataProviderInfo: ['prb.Empty', 'prb.data_provider.Info'],
      GetBlobByKey: ['prb.data_provider.GetBlobByKey', 'prb.data_provider.RawBlob'],
      WantBlob: ['prb.data_provider.WantBlob', 'prb.data_provider.BlobMeta'],
      GetBlobWithToken: ['prb.data_provider.GetBlob', 'prb.data_provider.Blob'],
      ListPool: ['prb.Empty', 'prb.lifecycle.PoolList'],
      CreatePool: ['prb.lifecycle.CreatePool', 'prb.lifecycle.PoolList'],
      UpdatePool: ['prb.lifecycle.UpdatePool', 'prb.lifecycle.PoolList'],
      ListWorker: ['prb.Empty', 'prb.lifecycle.WorkerList'],
      CreateWorker: ['prb.lifecycle.CreateWorker', 'prb.lifecycle.WorkerList'],
      UpdateWorker: ['prb.lifecycle.UpdateWorker', 'prb.lifecycle.WorkerList'],
      RestartWorker: ['prb.lifecycle.UuidQueryRequest', 'prb.WorkerStateUpdate'],
      RefreshRaAndRestartWorker: ['prb.lifecycle.UuidQueryRequest', 'prb.WorkerStateUpdate'],
      KickWorker: ['prb.lifecycle.UuidQueryRequest', 'prb.WorkerStateUpdate'],
      GetWorkerStatus: ['prb.lifecycle.UuidQueryRequest', 'prb.WorkerStateUpdate'],
    }
    assert.deepEqual(t.names().sort(), Object.keys(expect).sort())
    for (const [name, [req, res]] of Object.entries(expect)) {
      const m = t.get(name)!
      assert.equal(m.request.fullName, `.${req}`, name)
      assert.equal(m.response.fullName, `.${res}`, name)
    }
    assert.deepEqual(Object.keys(codec.service('prb.WalkieBroadcast').methods), [])
  })

  it('a PSK passphrase becomes a libp2p swarm key; a swarm.key text passes through', () => {
    const key = new TextDecoder().decode(swarmKeyFromSecret('a passphrase of enough length'))
    assert.match(key, /^\/key\/swarm\/psk\/1\.0\.0\/\n\/base16\/\n[0-9a-f]{64}$/)
    assert.equal(key, new TextDecoder().decode(swarmKeyFromSecret('  a passphrase of enough length\n')))
    const text = '/key/swarm/psk/1.0.0/\n/base16/\n' + 'ab'.repeat(32)
    assert.equal(new TextDecoder().decode(swarmKeyFromSecret(text)), text)
  })
})
