/**
 * A network's rules for ring positions (ring-position.ts): the difficulty a position's puzzle must
 * meet and the choices a nonce opens. A node is admitted to a routing table only if its id is the
 * position its identity and proof give, and the proof meets these rules; every peer that enters
 * the routing state is checked here, whoever named it.
 */
import { LRUCache } from 'lru-cache'
import { DEFAULT_ID_CHOICES, DEFAULT_ID_DIFFICULTY, MAX_ID_CHOICES, MAX_ID_DIFFICULTY, POSITION_CACHE_SIZE } from './constants.js'
import { PLAIN_POSITION, positionId, puzzleWork } from './ring-position.js'
import type { PositionProof } from './ring-position.js'
import type { NodeRef } from './rpc.js'

export interface PositionRulesInit {
  /** leading zero bits every position's puzzle must have; default DEFAULT_ID_DIFFICULTY */
  difficulty?: number
  /** candidate positions one nonce opens; default DEFAULT_ID_CHOICES */
  choices?: number
  /**
   * The bytes a node's position is bound to, from its peer name: the PeerId bytes on libp2p,
   * where the name is the PeerId's text. Throws for a name that names no identity.
   */
  identityOf(peer: string): Uint8Array
}

export class PositionRules {
  readonly difficulty: number
  readonly choices: number
  private readonly identityOf: (peer: string) => Uint8Array
  /** node (peer, id, proof) → whether it was admitted */
  private readonly checked = new LRUCache<string, boolean>({ max: POSITION_CACHE_SIZE })

  /** @throws RangeError for a difficulty or a number of choices out of range */
  constructor (init: PositionRulesInit) {
    this.difficulty = init.difficulty ?? DEFAULT_ID_DIFFICULTY
    this.choices = init.choices ?? DEFAULT_ID_CHOICES
    if (!Number.isInteger(this.difficulty) || this.difficulty < 0 || this.difficulty > MAX_ID_DIFFICULTY) {
      throw new RangeError(`a position's difficulty is an integer from 0 to ${MAX_ID_DIFFICULTY} bits`)
    }
    if (!Number.isInteger(this.choices) || this.choices < 1 || this.choices > MAX_ID_CHOICES) {
      throw new RangeError(`the choices of a position are an integer from 1 to ${MAX_ID_CHOICES}`)
    }
    this.identityOf = init.identityOf
  }

  /**
   * Whether `proof` pays this network's difficulty for `identity` and names one of its choices. A
   * network with a difficulty takes no position without a nonce: the plain position, which every
   * key has for nothing, is valid only where positions cost nothing.
   */
  pays (identity: Uint8Array, proof: PositionProof = PLAIN_POSITION): boolean {
    if (proof.choice >= this.choices) {
      return false
    }
    return this.difficulty === 0 || (proof.nonce.byteLength > 0 && puzzleWork(identity, proof.nonce) >= this.difficulty)
  }

  /** Whether `node` may enter a routing table: its id is the position its proof gives, and the proof pays */
  admits (node: NodeRef): boolean {
    const proof = node.proof ?? PLAIN_POSITION
    const key = `${node.peer} ${node.id.toString(36)} ${proof.choice} ${Array.from(proof.nonce).join('.')}`
    let admitted = this.checked.get(key)
    if (admitted == null) {
      admitted = this.check(node.peer, node.id, proof)
      this.checked.set(key, admitted)
    }
    return admitted
  }

  private check (peer: string, id: bigint, proof: PositionProof): boolean {
    let identity: Uint8Array
    try {
      identity = this.identityOf(peer)
    } catch {
      return false
    }
    return positionId(identity, proof) === id && this.pays(identity, proof)
  }
}
