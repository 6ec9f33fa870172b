import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { MAX_ID_CHOICES, MAX_ID_DIFFICULTY } from '../../src/chord/constants.js'
import { PositionRules } from '../../src/chord/position-rules.js'
import { PLAIN_POSITION, mintNonce, puzzleWork } from '../../src/chord/ring-position.js'
import { RoutingTable } from '../../src/chord/routing-table.js'
import { InvalidMessageError } from '../../src/errors.js'
import { openNodeDatabase } from '../../src/storage/database.js'
import { loadOrMintPositionNonce } from '../../src/storage/position-nonce.js'
import { MAX_POSITION_NONCE_BYTES } from '../../src/transport/constants.js'
import { positionIdentityOf, positionOf, proofToWire, ringIdOf, ringIdToWire } from '../../src/transport/ring-id.js'
import { validatePositionProof } from '../../src/transport/validate.js'
import { WirePeers } from '../../src/transport/wire-peers.js'
import { silentLogger } from '../helpers/logger.js'
import { connectionFrom } from '../helpers/named-addresses.js'
import type { NodeRef } from '../../src/chord/rpc.js'
import type { PeerId, PeerStore } from '@libp2p/interface'

/** Where the messages these tests decode come from: a peer on this host, whose every address is taken */
const fromLoopback = connectionFrom('/ip4/127.0.0.1/tcp/4001')

const DIFFICULTY = 8

async function newPeerId (): Promise<PeerId> {
  return peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
}

/** The node `peerId` is at with a nonce minted for `difficulty` */
async function paidNode (peerId: PeerId, difficulty = DIFFICULTY): Promise<NodeRef> {
  const proof = { nonce: await mintNonce(peerId.toMultihash().bytes, difficulty), choice: 0 }
  return { id: positionOf(peerId, proof), peer: peerId.toString(), proof }
}

function plainNode (peerId: PeerId): NodeRef {
  return { id: ringIdOf(peerId), peer: peerId.toString() }
}

describe('ring positions', () => {
  const rules = new PositionRules({ difficulty: DIFFICULTY, identityOf: positionIdentityOf })

  it('places a node without a nonce where it always sat, sha256(PeerId), and with one elsewhere', async () => {
    const peerId = await newPeerId()
    assert.equal(positionOf(peerId), ringIdOf(peerId))
    assert.equal(positionOf(peerId, PLAIN_POSITION), ringIdOf(peerId))
    const paid = await paidNode(peerId)
    assert.notEqual(paid.id, ringIdOf(peerId))
    assert.ok(puzzleWork(peerId.toMultihash().bytes, paid.proof?.nonce ?? new Uint8Array(0)) >= DIFFICULTY)
  })

  it('admits a paid position and refuses a plain one, one that fails the puzzle, or one borrowed from another key', async () => {
    const peerId = await newPeerId()
    const paid = await paidNode(peerId)
    assert.ok(rules.admits(paid))
    assert.ok(!rules.admits(plainNode(peerId)), 'the free position')

    // a nonce that pays for too little: the first below the difficulty
    const cheap = await paidNode(peerId, 1)
    const cheapWork = puzzleWork(peerId.toMultihash().bytes, cheap.proof?.nonce ?? new Uint8Array(0))
    assert.equal(rules.admits(cheap), cheapWork >= DIFFICULTY)

    // another key's nonce and id, claimed by this peer: the position is not bound to it
    const other = await paidNode(await newPeerId())
    assert.ok(!rules.admits({ ...other, peer: peerId.toString() }))
    // its own nonce with an id it does not give
    assert.ok(!rules.admits({ ...paid, id: paid.id + 1n }))
    // a choice the network does not open
    const proof = { nonce: paid.proof?.nonce ?? new Uint8Array(0), choice: 1 }
    assert.ok(!rules.admits({ id: positionOf(peerId, proof), peer: peerId.toString(), proof }))
    // a name that is no PeerId
    assert.ok(!rules.admits({ id: paid.id, peer: 'not a peer id', proof: paid.proof }))
  })

  it('admits every bound position in a network of difficulty 0', async () => {
    const free = new PositionRules({ difficulty: 0, identityOf: positionIdentityOf })
    const peerId = await newPeerId()
    assert.ok(free.admits(plainNode(peerId)))
    assert.ok(free.admits(await paidNode(peerId)))
    assert.ok(!free.admits({ id: 1n, peer: peerId.toString() }))
  })

  it('refuses a difficulty or a number of choices beyond its constants', () => {
    assert.throws(() => new PositionRules({ difficulty: MAX_ID_DIFFICULTY + 1, identityOf: positionIdentityOf }), RangeError)
    assert.throws(() => new PositionRules({ difficulty: -1, identityOf: positionIdentityOf }), RangeError)
    assert.throws(() => new PositionRules({ choices: MAX_ID_CHOICES + 1, identityOf: positionIdentityOf }), RangeError)
    assert.equal(new PositionRules({ difficulty: MAX_ID_DIFFICULTY, identityOf: positionIdentityOf }).difficulty, MAX_ID_DIFFICULTY)
  })

  it('never lets a refused position into the routing table: successor, predecessor or finger', async () => {
    const self = await paidNode(await newPeerId())
    const good = await paidNode(await newPeerId())
    const cheap = plainNode(await newPeerId())
    const table = new RoutingTable(self, { successorListLength: 4, admits: node => rules.admits(node) })
    table.setSuccessors([cheap, good])
    assert.deepEqual(table.getSuccessors().map(n => n.peer), [good.peer])
    table.setPredecessor(cheap)
    assert.equal(table.getSuccessors().length + (table.predecessor == null ? 0 : 1), 1, 'no predecessor taken')
    table.setPredecessor(good)
    table.setPredecessor(cheap)
    assert.equal(table.predecessor?.peer, good.peer, 'a refused node leaves the predecessor as it was')
    table.setFinger(3, cheap)
    assert.equal(table.getFinger(3), undefined)
    assert.ok(!table.knownNodes().some(n => n.peer === cheap.peer))
  })

  it('carries the proof in peer entries and drops an entry whose id the proof does not give', async () => {
    const peerStore = { merge: async () => {}, get: async () => ({ addresses: [] }) } as unknown as PeerStore
    const wirePeers = new WirePeers({ peerId: await newPeerId(), peerStore, logger: silentLogger(), getMultiaddrs: () => [], getConnections: () => [] })
    const sender = await newPeerId()
    const paid = await paidNode(await newPeerId())
    const [entry] = await wirePeers.encode([paid])
    assert.deepEqual(entry.positionNonce, paid.proof?.nonce)
    assert.deepEqual(await wirePeers.decode([entry], sender, fromLoopback), [paid])

    const plain = plainNode(await newPeerId())
    const [plainEntry] = await wirePeers.encode([plain])
    assert.equal(plainEntry.positionNonce, undefined, 'a plain position travels as before')
    assert.deepEqual(await wirePeers.decode([plainEntry], sender, fromLoopback), [plain])

    // a proof stripped off, or put on an entry it does not belong to
    assert.deepEqual(await wirePeers.decode([{ ...entry, positionNonce: undefined }], sender, fromLoopback), [])
    assert.deepEqual(await wirePeers.decode([{ ...plainEntry, ...proofToWire(paid.proof) }], sender, fromLoopback), [])
    assert.deepEqual(await wirePeers.decode([{ ...entry, ringId: ringIdToWire(plain.id) }], sender, fromLoopback), [])
  })

  it('refuses a nonce longer than MAX_POSITION_NONCE_BYTES, an empty one, or a choice of MAX_ID_CHOICES', () => {
    assert.deepEqual(validatePositionProof({}), PLAIN_POSITION)
    assert.equal(validatePositionProof({ positionNonce: new Uint8Array(MAX_POSITION_NONCE_BYTES) }).nonce.byteLength, MAX_POSITION_NONCE_BYTES)
    assert.throws(() => validatePositionProof({ positionNonce: new Uint8Array(MAX_POSITION_NONCE_BYTES + 1) }), InvalidMessageError)
    assert.throws(() => validatePositionProof({ positionNonce: new Uint8Array(0) }), InvalidMessageError)
    assert.equal(validatePositionProof({ positionNonce: new Uint8Array(8), positionChoice: MAX_ID_CHOICES - 1 }).choice, MAX_ID_CHOICES - 1)
    assert.throws(() => validatePositionProof({ positionNonce: new Uint8Array(8), positionChoice: MAX_ID_CHOICES }), InvalidMessageError)
  })

  describe('nonce in the data directory', () => {
    let dir: string

    beforeEach(async () => {
      dir = await mkdtemp(join(tmpdir(), 'chord-position-'))
    })

    afterEach(async () => {
      await rm(dir, { recursive: true, force: true })
    })

    it('keeps the minted nonce across restarts, and mints again only for a higher difficulty', async () => {
      const identity = (await newPeerId()).toMultihash().bytes
      let database = await openNodeDatabase(dir)
      const first = await loadOrMintPositionNonce(database, identity, DIFFICULTY + 4)
      assert.ok(puzzleWork(identity, first) >= DIFFICULTY + 4)
      await database.close()

      database = await openNodeDatabase(dir)
      assert.deepEqual(await loadOrMintPositionNonce(database, identity, DIFFICULTY + 4), first)
      // the nonce kept for a harder network serves an easier one (a fresh mint would find the first nonce worth DIFFICULTY)
      assert.deepEqual(await loadOrMintPositionNonce(database, identity, DIFFICULTY), first)
      const harder = await loadOrMintPositionNonce(database, identity, DIFFICULTY + 6)
      assert.ok(puzzleWork(identity, harder) >= DIFFICULTY + 6)
      assert.deepEqual(await loadOrMintPositionNonce(database, identity, DIFFICULTY + 6), harder)
      assert.equal((await loadOrMintPositionNonce(database, identity, 0)).byteLength, 0, 'no nonce where positions are free')
      await database.close()
    })
  })
})
