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
  LEAVING = 'LEAVING'
}

enum __MessageTypeValues {
  UNKNOWN = 0,
  PING = 1,
  GET_NEIGHBOURS = 2,
  NOTIFY = 3,
  FIND_SUCCESSOR = 4,
  LEAVING = 5
}

export namespace MessageType {
  export const codec = (): Codec<MessageType> => {
    return enumeration<MessageType>(__MessageTypeValues)
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

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          type: MessageType.UNKNOWN
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

  export function encode (obj: Partial<Request>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Request.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Request>): Request {
    return decodeMessage(buf, Request.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Request>): Generator<RequestTypeFieldEvent | RequestTargetFieldEvent | RequestNeighboursPredecessorPeerIdFieldEvent | RequestNeighboursPredecessorRingIdFieldEvent | RequestNeighboursPredecessorAddrsFieldEvent | RequestNeighboursSuccessorsPeerIdFieldEvent | RequestNeighboursSuccessorsRingIdFieldEvent | RequestNeighboursSuccessorsAddrsFieldEvent> {
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

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          type: MessageType.UNKNOWN,
          status: Status.OK,
          done: false,
          peers: []
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
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const obj = {
          peers: 0
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

  export function encode (obj: Partial<Response>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Response.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Response>): Response {
    return decodeMessage(buf, Response.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Response>): Generator<ResponseTypeFieldEvent | ResponseStatusFieldEvent | ResponseErrorCodeFieldEvent | ResponseNeighboursPredecessorPeerIdFieldEvent | ResponseNeighboursPredecessorRingIdFieldEvent | ResponseNeighboursPredecessorAddrsFieldEvent | ResponseNeighboursSuccessorsPeerIdFieldEvent | ResponseNeighboursSuccessorsRingIdFieldEvent | ResponseNeighboursSuccessorsAddrsFieldEvent | ResponseDoneFieldEvent | ResponsePeersPeerIdFieldEvent | ResponsePeersRingIdFieldEvent | ResponsePeersAddrsFieldEvent> {
    return streamMessage(buf, Response.codec(), opts)
  }
}
