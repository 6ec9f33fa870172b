import { decodeMessage, encodeMessage, enumeration, MaxLengthError, message, streamMessage } from 'protons-runtime'
import { alloc as uint8ArrayAlloc } from 'uint8arrays/alloc'
import type { Codec, DecodeOptions } from 'protons-runtime'
import type { Uint8ArrayList } from 'uint8arraylist'

export enum MessageType {
  UNKNOWN = 'UNKNOWN',
  PING = 'PING',
  GET_NEIGHBOURS = 'GET_NEIGHBOURS',
  NOTIFY = 'NOTIFY',
  FIND_SUCCESSOR = 'FIND_SUCCESSOR',
  LEAVING = 'LEAVING',
  STORE = 'STORE',
  FETCH = 'FETCH',
  RANGE_DIGEST = 'RANGE_DIGEST',
  RANGE_SUMMARIES = 'RANGE_SUMMARIES',
  DELETE = 'DELETE'
}

enum __MessageTypeValues {
  UNKNOWN = 0,
  PING = 1,
  GET_NEIGHBOURS = 2,
  NOTIFY = 3,
  FIND_SUCCESSOR = 4,
  LEAVING = 5,
  STORE = 6,
  FETCH = 7,
  RANGE_DIGEST = 8,
  RANGE_SUMMARIES = 9,
  DELETE = 10
}

export namespace MessageType {
  export const codec = (): Codec<MessageType> => {
    return enumeration<MessageType>(__MessageTypeValues)
  }
}

export enum Namespace {
  RECORDS = 'RECORDS',
  MAILBOX = 'MAILBOX'
}

enum __NamespaceValues {
  RECORDS = 0,
  MAILBOX = 1
}

export namespace Namespace {
  export const codec = (): Codec<Namespace> => {
    return enumeration<Namespace>(__NamespaceValues)
  }
}

export interface Record {
  key: Uint8Array<ArrayBuffer>
  value: Uint8Array<ArrayBuffer>
  expiresAt: number
}

export namespace Record {
  let _codec: Codec<Record>

  export const codec = (): Codec<Record> => {
    if (_codec == null) {
      _codec = message<Record>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.key != null && obj.key.byteLength > 0)) {
          w.uint32(10)
          w.bytes(obj.key)
        }

        if ((obj.value != null && obj.value.byteLength > 0)) {
          w.uint32(18)
          w.bytes(obj.value)
        }

        if ((obj.expiresAt != null && obj.expiresAt !== 0)) {
          w.uint32(24)
          w.uint64Number(obj.expiresAt)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          key: uint8ArrayAlloc(0),
          value: uint8ArrayAlloc(0),
          expiresAt: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.key = reader.bytes()
              break
            }
            case 2: {
              obj.value = reader.bytes()
              break
            }
            case 3: {
              obj.expiresAt = reader.uint64Number()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.key`,
                value: reader.bytes()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.value`,
                value: reader.bytes()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.expiresAt`,
                value: reader.uint64Number()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface RecordKeyFieldEvent {
    field: '$.key'
    value: Uint8Array<ArrayBuffer>
  }

  export interface RecordValueFieldEvent {
    field: '$.value'
    value: Uint8Array<ArrayBuffer>
  }

  export interface RecordExpiresAtFieldEvent {
    field: '$.expiresAt'
    value: number
  }

  export function encode (obj: Partial<Record>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Record.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Record>): Record {
    return decodeMessage(buf, Record.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Record>): Generator<RecordKeyFieldEvent | RecordValueFieldEvent | RecordExpiresAtFieldEvent> {
    return streamMessage(buf, Record.codec(), opts)
  }
}

export interface RecordSummary {
  key: Uint8Array<ArrayBuffer>
  id: Uint8Array<ArrayBuffer>
  expiresAt: number
}

export namespace RecordSummary {
  let _codec: Codec<RecordSummary>

  export const codec = (): Codec<RecordSummary> => {
    if (_codec == null) {
      _codec = message<RecordSummary>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.key != null && obj.key.byteLength > 0)) {
          w.uint32(10)
          w.bytes(obj.key)
        }

        if ((obj.id != null && obj.id.byteLength > 0)) {
          w.uint32(18)
          w.bytes(obj.id)
        }

        if ((obj.expiresAt != null && obj.expiresAt !== 0)) {
          w.uint32(24)
          w.uint64Number(obj.expiresAt)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          key: uint8ArrayAlloc(0),
          id: uint8ArrayAlloc(0),
          expiresAt: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.key = reader.bytes()
              break
            }
            case 2: {
              obj.id = reader.bytes()
              break
            }
            case 3: {
              obj.expiresAt = reader.uint64Number()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.key`,
                value: reader.bytes()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.id`,
                value: reader.bytes()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.expiresAt`,
                value: reader.uint64Number()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface RecordSummaryKeyFieldEvent {
    field: '$.key'
    value: Uint8Array<ArrayBuffer>
  }

  export interface RecordSummaryIdFieldEvent {
    field: '$.id'
    value: Uint8Array<ArrayBuffer>
  }

  export interface RecordSummaryExpiresAtFieldEvent {
    field: '$.expiresAt'
    value: number
  }

  export function encode (obj: Partial<RecordSummary>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, RecordSummary.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<RecordSummary>): RecordSummary {
    return decodeMessage(buf, RecordSummary.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<RecordSummary>): Generator<RecordSummaryKeyFieldEvent | RecordSummaryIdFieldEvent | RecordSummaryExpiresAtFieldEvent> {
    return streamMessage(buf, RecordSummary.codec(), opts)
  }
}

export interface Peer {
  peerId: Uint8Array<ArrayBuffer>
  ringId: Uint8Array<ArrayBuffer>
  addrs: Uint8Array<ArrayBuffer>[]
}

export namespace Peer {
  let _codec: Codec<Peer>

  export const codec = (): Codec<Peer> => {
    if (_codec == null) {
      _codec = message<Peer>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.peerId != null && obj.peerId.byteLength > 0)) {
          w.uint32(10)
          w.bytes(obj.peerId)
        }

        if ((obj.ringId != null && obj.ringId.byteLength > 0)) {
          w.uint32(18)
          w.bytes(obj.ringId)
        }

        if (obj.addrs != null && obj.addrs.length > 0) {
          for (const value of obj.addrs) {
            w.uint32(26)
            w.bytes(value)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          peerId: uint8ArrayAlloc(0),
          ringId: uint8ArrayAlloc(0),
          addrs: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.peerId = reader.bytes()
              break
            }
            case 2: {
              obj.ringId = reader.bytes()
              break
            }
            case 3: {
              if (opts.limits?.addrs != null && obj.addrs.length === opts.limits.addrs) {
                throw new MaxLengthError('Decode error - repeated field "addrs" had too many elements')
              }

              obj.addrs.push(reader.bytes())
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const obj = {
          addrs: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.peerId`,
                value: reader.bytes()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.ringId`,
                value: reader.bytes()
              }
              break
            }
            case 3: {
              if (opts.limits?.addrs != null && obj.addrs === opts.limits.addrs) {
                throw new MaxLengthError('Streaming decode error - repeated field "addrs" had too many elements')
              }

              yield {
                field: `${prefix}.addrs[]`,
                index: obj.addrs,
                value: reader.bytes()
              }

              obj.addrs++

              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface PeerPeerIdFieldEvent {
    field: '$.peerId'
    value: Uint8Array<ArrayBuffer>
  }

  export interface PeerRingIdFieldEvent {
    field: '$.ringId'
    value: Uint8Array<ArrayBuffer>
  }

  export interface PeerAddrsFieldEvent {
    field: '$.addrs[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<Peer>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Peer.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Peer>): Peer {
    return decodeMessage(buf, Peer.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Peer>): Generator<PeerPeerIdFieldEvent | PeerRingIdFieldEvent | PeerAddrsFieldEvent> {
    return streamMessage(buf, Peer.codec(), opts)
  }
}

export interface Neighbours {
  predecessor?: Peer
  successors: Peer[]
}

export namespace Neighbours {
  let _codec: Codec<Neighbours>

  export const codec = (): Codec<Neighbours> => {
    if (_codec == null) {
      _codec = message<Neighbours>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.predecessor != null) {
          w.uint32(10)
          Peer.codec().encode(obj.predecessor, w)
        }

        if (obj.successors != null && obj.successors.length > 0) {
          for (const value of obj.successors) {
            w.uint32(18)
            Peer.codec().encode(value, w)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          successors: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.predecessor = Peer.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.predecessor
              })
              break
            }
            case 2: {
              if (opts.limits?.successors != null && obj.successors.length === opts.limits.successors) {
                throw new MaxLengthError('Decode error - repeated field "successors" had too many elements')
              }

              obj.successors.push(Peer.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.successors$
              }))
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const obj = {
          successors: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield * Peer.codec().stream(reader, reader.uint32(), `${prefix}.predecessor`, {
                limits: opts.limits?.predecessor
              })

              break
            }
            case 2: {
              if (opts.limits?.successors != null && obj.successors === opts.limits.successors) {
                throw new MaxLengthError('Streaming decode error - repeated field "successors" had too many elements')
              }

              for (const evt of Peer.codec().stream(reader, reader.uint32(), `${prefix}.successors[]`, {
                limits: opts.limits?.successors$
              })) {
                yield {
                  ...evt,
                  index: obj.successors
                }
              }

              obj.successors++

              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface NeighboursPredecessorPeerIdFieldEvent {
    field: '$.predecessor.peerId'
    value: Uint8Array<ArrayBuffer>
  }

  export interface NeighboursPredecessorRingIdFieldEvent {
    field: '$.predecessor.ringId'
    value: Uint8Array<ArrayBuffer>
  }

  export interface NeighboursPredecessorAddrsFieldEvent {
    field: '$.predecessor.addrs[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export interface NeighboursSuccessorsPeerIdFieldEvent {
    field: '$.successors[].peerId'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface NeighboursSuccessorsRingIdFieldEvent {
    field: '$.successors[].ringId'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface NeighboursSuccessorsAddrsFieldEvent {
    field: '$.successors[].addrs[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<Neighbours>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Neighbours.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Neighbours>): Neighbours {
    return decodeMessage(buf, Neighbours.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Neighbours>): Generator<NeighboursPredecessorPeerIdFieldEvent | NeighboursPredecessorRingIdFieldEvent | NeighboursPredecessorAddrsFieldEvent | NeighboursSuccessorsPeerIdFieldEvent | NeighboursSuccessorsRingIdFieldEvent | NeighboursSuccessorsAddrsFieldEvent> {
    return streamMessage(buf, Neighbours.codec(), opts)
  }
}

export interface Request {
  type: MessageType
  target?: Uint8Array<ArrayBuffer>
  neighbours?: Neighbours
  records: Record[]
  key?: Uint8Array<ArrayBuffer>
  after?: Uint8Array<ArrayBuffer>
  rangeStart?: Uint8Array<ArrayBuffer>
  rangeEnd?: Uint8Array<ArrayBuffer>
  namespace: Namespace
  owner?: Uint8Array<ArrayBuffer>
  ids: Uint8Array<ArrayBuffer>[]
  signedAt?: number
  signature?: Uint8Array<ArrayBuffer>
}

export namespace Request {
  let _codec: Codec<Request>

  export const codec = (): Codec<Request> => {
    if (_codec == null) {
      _codec = message<Request>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.type != null && __MessageTypeValues[obj.type] !== 0) {
          w.uint32(8)
          MessageType.codec().encode(obj.type, w)
        }

        if (obj.target != null) {
          w.uint32(18)
          w.bytes(obj.target)
        }

        if (obj.neighbours != null) {
          w.uint32(26)
          Neighbours.codec().encode(obj.neighbours, w)
        }

        if (obj.records != null && obj.records.length > 0) {
          for (const value of obj.records) {
            w.uint32(34)
            Record.codec().encode(value, w)
          }
        }

        if (obj.key != null) {
          w.uint32(42)
          w.bytes(obj.key)
        }

        if (obj.after != null) {
          w.uint32(50)
          w.bytes(obj.after)
        }

        if (obj.rangeStart != null) {
          w.uint32(58)
          w.bytes(obj.rangeStart)
        }

        if (obj.rangeEnd != null) {
          w.uint32(66)
          w.bytes(obj.rangeEnd)
        }

        if (obj.namespace != null && __NamespaceValues[obj.namespace] !== 0) {
          w.uint32(72)
          Namespace.codec().encode(obj.namespace, w)
        }

        if (obj.owner != null) {
          w.uint32(82)
          w.bytes(obj.owner)
        }

        if (obj.ids != null && obj.ids.length > 0) {
          for (const value of obj.ids) {
            w.uint32(90)
            w.bytes(value)
          }
        }

        if (obj.signedAt != null) {
          w.uint32(96)
          w.uint64Number(obj.signedAt)
        }

        if (obj.signature != null) {
          w.uint32(106)
          w.bytes(obj.signature)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          type: MessageType.UNKNOWN,
          records: [],
          namespace: Namespace.RECORDS,
          ids: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.type = MessageType.codec().decode(reader)
              break
            }
            case 2: {
              obj.target = reader.bytes()
              break
            }
            case 3: {
              obj.neighbours = Neighbours.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.neighbours
              })
              break
            }
            case 4: {
              if (opts.limits?.records != null && obj.records.length === opts.limits.records) {
                throw new MaxLengthError('Decode error - repeated field "records" had too many elements')
              }

              obj.records.push(Record.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.records$
              }))
              break
            }
            case 5: {
              obj.key = reader.bytes()
              break
            }
            case 6: {
              obj.after = reader.bytes()
              break
            }
            case 7: {
              obj.rangeStart = reader.bytes()
              break
            }
            case 8: {
              obj.rangeEnd = reader.bytes()
              break
            }
            case 9: {
              obj.namespace = Namespace.codec().decode(reader)
              break
            }
            case 10: {
              obj.owner = reader.bytes()
              break
            }
            case 11: {
              if (opts.limits?.ids != null && obj.ids.length === opts.limits.ids) {
                throw new MaxLengthError('Decode error - repeated field "ids" had too many elements')
              }

              obj.ids.push(reader.bytes())
              break
            }
            case 12: {
              obj.signedAt = reader.uint64Number()
              break
            }
            case 13: {
              obj.signature = reader.bytes()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const obj = {
          records: 0,
          ids: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.type`,
                value: MessageType.codec().decode(reader)
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.target`,
                value: reader.bytes()
              }
              break
            }
            case 3: {
              yield * Neighbours.codec().stream(reader, reader.uint32(), `${prefix}.neighbours`, {
                limits: opts.limits?.neighbours
              })

              break
            }
            case 4: {
              if (opts.limits?.records != null && obj.records === opts.limits.records) {
                throw new MaxLengthError('Streaming decode error - repeated field "records" had too many elements')
              }

              for (const evt of Record.codec().stream(reader, reader.uint32(), `${prefix}.records[]`, {
                limits: opts.limits?.records$
              })) {
                yield {
                  ...evt,
                  index: obj.records
                }
              }

              obj.records++

              break
            }
            case 5: {
              yield {
                field: `${prefix}.key`,
                value: reader.bytes()
              }
              break
            }
            case 6: {
              yield {
                field: `${prefix}.after`,
                value: reader.bytes()
              }
              break
            }
            case 7: {
              yield {
                field: `${prefix}.rangeStart`,
                value: reader.bytes()
              }
              break
            }
            case 8: {
              yield {
                field: `${prefix}.rangeEnd`,
                value: reader.bytes()
              }
              break
            }
            case 9: {
              yield {
                field: `${prefix}.namespace`,
                value: Namespace.codec().decode(reader)
              }
              break
            }
            case 10: {
              yield {
                field: `${prefix}.owner`,
                value: reader.bytes()
              }
              break
            }
            case 11: {
              if (opts.limits?.ids != null && obj.ids === opts.limits.ids) {
                throw new MaxLengthError('Streaming decode error - repeated field "ids" had too many elements')
              }

              yield {
                field: `${prefix}.ids[]`,
                index: obj.ids,
                value: reader.bytes()
              }

              obj.ids++

              break
            }
            case 12: {
              yield {
                field: `${prefix}.signedAt`,
                value: reader.uint64Number()
              }
              break
            }
            case 13: {
              yield {
                field: `${prefix}.signature`,
                value: reader.bytes()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface RequestTypeFieldEvent {
    field: '$.type'
    value: MessageType
  }

  export interface RequestTargetFieldEvent {
    field: '$.target'
    value: Uint8Array<ArrayBuffer>
  }

  export interface RequestNeighboursPredecessorPeerIdFieldEvent {
    field: '$.neighbours.predecessor.peerId'
    value: Uint8Array<ArrayBuffer>
  }

  export interface RequestNeighboursPredecessorRingIdFieldEvent {
    field: '$.neighbours.predecessor.ringId'
    value: Uint8Array<ArrayBuffer>
  }

  export interface RequestNeighboursPredecessorAddrsFieldEvent {
    field: '$.neighbours.predecessor.addrs[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export interface RequestNeighboursSuccessorsPeerIdFieldEvent {
    field: '$.neighbours.successors[].peerId'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface RequestNeighboursSuccessorsRingIdFieldEvent {
    field: '$.neighbours.successors[].ringId'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface RequestNeighboursSuccessorsAddrsFieldEvent {
    field: '$.neighbours.successors[].addrs[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export interface RequestRecordsKeyFieldEvent {
    field: '$.records[].key'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface RequestRecordsValueFieldEvent {
    field: '$.records[].value'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface RequestRecordsExpiresAtFieldEvent {
    field: '$.records[].expiresAt'
    value: number
    index: number
  }

  export interface RequestKeyFieldEvent {
    field: '$.key'
    value: Uint8Array<ArrayBuffer>
  }

  export interface RequestAfterFieldEvent {
    field: '$.after'
    value: Uint8Array<ArrayBuffer>
  }

  export interface RequestRangeStartFieldEvent {
    field: '$.rangeStart'
    value: Uint8Array<ArrayBuffer>
  }

  export interface RequestRangeEndFieldEvent {
    field: '$.rangeEnd'
    value: Uint8Array<ArrayBuffer>
  }

  export interface RequestNamespaceFieldEvent {
    field: '$.namespace'
    value: Namespace
  }

  export interface RequestOwnerFieldEvent {
    field: '$.owner'
    value: Uint8Array<ArrayBuffer>
  }

  export interface RequestIdsFieldEvent {
    field: '$.ids[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export interface RequestSignedAtFieldEvent {
    field: '$.signedAt'
    value: number
  }

  export interface RequestSignatureFieldEvent {
    field: '$.signature'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<Request>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Request.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Request>): Request {
    return decodeMessage(buf, Request.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Request>): Generator<RequestTypeFieldEvent | RequestTargetFieldEvent | RequestNeighboursPredecessorPeerIdFieldEvent | RequestNeighboursPredecessorRingIdFieldEvent | RequestNeighboursPredecessorAddrsFieldEvent | RequestNeighboursSuccessorsPeerIdFieldEvent | RequestNeighboursSuccessorsRingIdFieldEvent | RequestNeighboursSuccessorsAddrsFieldEvent | RequestRecordsKeyFieldEvent | RequestRecordsValueFieldEvent | RequestRecordsExpiresAtFieldEvent | RequestKeyFieldEvent | RequestAfterFieldEvent | RequestRangeStartFieldEvent | RequestRangeEndFieldEvent | RequestNamespaceFieldEvent | RequestOwnerFieldEvent | RequestIdsFieldEvent | RequestSignedAtFieldEvent | RequestSignatureFieldEvent> {
    return streamMessage(buf, Request.codec(), opts)
  }
}

export interface Response {
  type: MessageType
  status: Response.Status
  errorCode?: string
  neighbours?: Neighbours
  done: boolean
  peers: Peer[]
  records: Record[]
  more: boolean
  count?: number
  digest?: Uint8Array<ArrayBuffer>
  summaries: RecordSummary[]
}

export namespace Response {
  export enum Status {
    OK = 'OK',
    ERROR = 'ERROR'
  }

  enum __StatusValues {
    OK = 0,
    ERROR = 1
  }

  export namespace Status {
    export const codec = (): Codec<Status> => {
      return enumeration<Status>(__StatusValues)
    }
  }

  let _codec: Codec<Response>

  export const codec = (): Codec<Response> => {
    if (_codec == null) {
      _codec = message<Response>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.type != null && __MessageTypeValues[obj.type] !== 0) {
          w.uint32(8)
          MessageType.codec().encode(obj.type, w)
        }

        if (obj.status != null && __StatusValues[obj.status] !== 0) {
          w.uint32(16)
          Response.Status.codec().encode(obj.status, w)
        }

        if (obj.errorCode != null) {
          w.uint32(26)
          w.string(obj.errorCode)
        }

        if (obj.neighbours != null) {
          w.uint32(34)
          Neighbours.codec().encode(obj.neighbours, w)
        }

        if ((obj.done != null && obj.done !== false)) {
          w.uint32(40)
          w.bool(obj.done)
        }

        if (obj.peers != null && obj.peers.length > 0) {
          for (const value of obj.peers) {
            w.uint32(50)
            Peer.codec().encode(value, w)
          }
        }

        if (obj.records != null && obj.records.length > 0) {
          for (const value of obj.records) {
            w.uint32(58)
            Record.codec().encode(value, w)
          }
        }

        if ((obj.more != null && obj.more !== false)) {
          w.uint32(64)
          w.bool(obj.more)
        }

        if (obj.count != null) {
          w.uint32(72)
          w.uint32(obj.count)
        }

        if (obj.digest != null) {
          w.uint32(82)
          w.bytes(obj.digest)
        }

        if (obj.summaries != null && obj.summaries.length > 0) {
          for (const value of obj.summaries) {
            w.uint32(90)
            RecordSummary.codec().encode(value, w)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          type: MessageType.UNKNOWN,
          status: Status.OK,
          done: false,
          peers: [],
          records: [],
          more: false,
          summaries: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.type = MessageType.codec().decode(reader)
              break
            }
            case 2: {
              obj.status = Response.Status.codec().decode(reader)
              break
            }
            case 3: {
              obj.errorCode = reader.string()
              break
            }
            case 4: {
              obj.neighbours = Neighbours.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.neighbours
              })
              break
            }
            case 5: {
              obj.done = reader.bool()
              break
            }
            case 6: {
              if (opts.limits?.peers != null && obj.peers.length === opts.limits.peers) {
                throw new MaxLengthError('Decode error - repeated field "peers" had too many elements')
              }

              obj.peers.push(Peer.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.peers$
              }))
              break
            }
            case 7: {
              if (opts.limits?.records != null && obj.records.length === opts.limits.records) {
                throw new MaxLengthError('Decode error - repeated field "records" had too many elements')
              }

              obj.records.push(Record.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.records$
              }))
              break
            }
            case 8: {
              obj.more = reader.bool()
              break
            }
            case 9: {
              obj.count = reader.uint32()
              break
            }
            case 10: {
              obj.digest = reader.bytes()
              break
            }
            case 11: {
              if (opts.limits?.summaries != null && obj.summaries.length === opts.limits.summaries) {
                throw new MaxLengthError('Decode error - repeated field "summaries" had too many elements')
              }

              obj.summaries.push(RecordSummary.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.summaries$
              }))
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const obj = {
          peers: 0,
          records: 0,
          summaries: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.type`,
                value: MessageType.codec().decode(reader)
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.status`,
                value: Response.Status.codec().decode(reader)
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.errorCode`,
                value: reader.string()
              }
              break
            }
            case 4: {
              yield * Neighbours.codec().stream(reader, reader.uint32(), `${prefix}.neighbours`, {
                limits: opts.limits?.neighbours
              })

              break
            }
            case 5: {
              yield {
                field: `${prefix}.done`,
                value: reader.bool()
              }
              break
            }
            case 6: {
              if (opts.limits?.peers != null && obj.peers === opts.limits.peers) {
                throw new MaxLengthError('Streaming decode error - repeated field "peers" had too many elements')
              }

              for (const evt of Peer.codec().stream(reader, reader.uint32(), `${prefix}.peers[]`, {
                limits: opts.limits?.peers$
              })) {
                yield {
                  ...evt,
                  index: obj.peers
                }
              }

              obj.peers++

              break
            }
            case 7: {
              if (opts.limits?.records != null && obj.records === opts.limits.records) {
                throw new MaxLengthError('Streaming decode error - repeated field "records" had too many elements')
              }

              for (const evt of Record.codec().stream(reader, reader.uint32(), `${prefix}.records[]`, {
                limits: opts.limits?.records$
              })) {
                yield {
                  ...evt,
                  index: obj.records
                }
              }

              obj.records++

              break
            }
            case 8: {
              yield {
                field: `${prefix}.more`,
                value: reader.bool()
              }
              break
            }
            case 9: {
              yield {
                field: `${prefix}.count`,
                value: reader.uint32()
              }
              break
            }
            case 10: {
              yield {
                field: `${prefix}.digest`,
                value: reader.bytes()
              }
              break
            }
            case 11: {
              if (opts.limits?.summaries != null && obj.summaries === opts.limits.summaries) {
                throw new MaxLengthError('Streaming decode error - repeated field "summaries" had too many elements')
              }

              for (const evt of RecordSummary.codec().stream(reader, reader.uint32(), `${prefix}.summaries[]`, {
                limits: opts.limits?.summaries$
              })) {
                yield {
                  ...evt,
                  index: obj.summaries
                }
              }

              obj.summaries++

              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface ResponseTypeFieldEvent {
    field: '$.type'
    value: MessageType
  }

  export interface ResponseStatusFieldEvent {
    field: '$.status'
    value: Response.Status
  }

  export interface ResponseErrorCodeFieldEvent {
    field: '$.errorCode'
    value: string
  }

  export interface ResponseNeighboursPredecessorPeerIdFieldEvent {
    field: '$.neighbours.predecessor.peerId'
    value: Uint8Array<ArrayBuffer>
  }

  export interface ResponseNeighboursPredecessorRingIdFieldEvent {
    field: '$.neighbours.predecessor.ringId'
    value: Uint8Array<ArrayBuffer>
  }

  export interface ResponseNeighboursPredecessorAddrsFieldEvent {
    field: '$.neighbours.predecessor.addrs[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export interface ResponseNeighboursSuccessorsPeerIdFieldEvent {
    field: '$.neighbours.successors[].peerId'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface ResponseNeighboursSuccessorsRingIdFieldEvent {
    field: '$.neighbours.successors[].ringId'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface ResponseNeighboursSuccessorsAddrsFieldEvent {
    field: '$.neighbours.successors[].addrs[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export interface ResponseDoneFieldEvent {
    field: '$.done'
    value: boolean
  }

  export interface ResponsePeersPeerIdFieldEvent {
    field: '$.peers[].peerId'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface ResponsePeersRingIdFieldEvent {
    field: '$.peers[].ringId'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface ResponsePeersAddrsFieldEvent {
    field: '$.peers[].addrs[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export interface ResponseRecordsKeyFieldEvent {
    field: '$.records[].key'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface ResponseRecordsValueFieldEvent {
    field: '$.records[].value'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface ResponseRecordsExpiresAtFieldEvent {
    field: '$.records[].expiresAt'
    value: number
    index: number
  }

  export interface ResponseMoreFieldEvent {
    field: '$.more'
    value: boolean
  }

  export interface ResponseCountFieldEvent {
    field: '$.count'
    value: number
  }

  export interface ResponseDigestFieldEvent {
    field: '$.digest'
    value: Uint8Array<ArrayBuffer>
  }

  export interface ResponseSummariesKeyFieldEvent {
    field: '$.summaries[].key'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface ResponseSummariesIdFieldEvent {
    field: '$.summaries[].id'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface ResponseSummariesExpiresAtFieldEvent {
    field: '$.summaries[].expiresAt'
    value: number
    index: number
  }

  export function encode (obj: Partial<Response>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Response.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Response>): Response {
    return decodeMessage(buf, Response.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Response>): Generator<ResponseTypeFieldEvent | ResponseStatusFieldEvent | ResponseErrorCodeFieldEvent | ResponseNeighboursPredecessorPeerIdFieldEvent | ResponseNeighboursPredecessorRingIdFieldEvent | ResponseNeighboursPredecessorAddrsFieldEvent | ResponseNeighboursSuccessorsPeerIdFieldEvent | ResponseNeighboursSuccessorsRingIdFieldEvent | ResponseNeighboursSuccessorsAddrsFieldEvent | ResponseDoneFieldEvent | ResponsePeersPeerIdFieldEvent | ResponsePeersRingIdFieldEvent | ResponsePeersAddrsFieldEvent | ResponseRecordsKeyFieldEvent | ResponseRecordsValueFieldEvent | ResponseRecordsExpiresAtFieldEvent | ResponseMoreFieldEvent | ResponseCountFieldEvent | ResponseDigestFieldEvent | ResponseSummariesKeyFieldEvent | ResponseSummariesIdFieldEvent | ResponseSummariesExpiresAtFieldEvent> {
    return streamMessage(buf, Response.codec(), opts)
  }
}
