import { decodeMessage, encodeMessage, enumeration, MaxLengthError, message, streamMessage } from 'protons-runtime'
import type { Codec, DecodeOptions } from 'protons-runtime'
import type { Uint8ArrayList } from 'uint8arraylist'

export interface MailboxRequest {
  type: MailboxRequest.Type
  owner?: Uint8Array<ArrayBuffer>
  signature?: Uint8Array<ArrayBuffer>
}

export namespace MailboxRequest {
  export enum Type {
    UNKNOWN = 'UNKNOWN',
    SUBSCRIBE = 'SUBSCRIBE',
    PROVE = 'PROVE'
  }

  enum __TypeValues {
    UNKNOWN = 0,
    SUBSCRIBE = 1,
    PROVE = 2
  }

  export namespace Type {
    export const codec = (): Codec<Type> => {
      return enumeration<Type>(__TypeValues)
    }
  }

  let _codec: Codec<MailboxRequest>

  export const codec = (): Codec<MailboxRequest> => {
    if (_codec == null) {
      _codec = message<MailboxRequest>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.type != null && __TypeValues[obj.type] !== 0) {
          w.uint32(8)
          MailboxRequest.Type.codec().encode(obj.type, w)
        }

        if (obj.owner != null) {
          w.uint32(18)
          w.bytes(obj.owner)
        }

        if (obj.signature != null) {
          w.uint32(26)
          w.bytes(obj.signature)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          type: Type.UNKNOWN
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.type = MailboxRequest.Type.codec().decode(reader)
              break
            }
            case 2: {
              obj.owner = reader.bytes()
              break
            }
            case 3: {
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
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.type`,
                value: MailboxRequest.Type.codec().decode(reader)
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.owner`,
                value: reader.bytes()
              }
              break
            }
            case 3: {
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

  export interface MailboxRequestTypeFieldEvent {
    field: '$.type'
    value: MailboxRequest.Type
  }

  export interface MailboxRequestOwnerFieldEvent {
    field: '$.owner'
    value: Uint8Array<ArrayBuffer>
  }

  export interface MailboxRequestSignatureFieldEvent {
    field: '$.signature'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<MailboxRequest>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, MailboxRequest.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<MailboxRequest>): MailboxRequest {
    return decodeMessage(buf, MailboxRequest.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<MailboxRequest>): Generator<MailboxRequestTypeFieldEvent | MailboxRequestOwnerFieldEvent | MailboxRequestSignatureFieldEvent> {
    return streamMessage(buf, MailboxRequest.codec(), opts)
  }
}

export interface MailboxEvent {
  type: MailboxEvent.Type
  nonce?: Uint8Array<ArrayBuffer>
  envelopes: Uint8Array<ArrayBuffer>[]
  caughtUp: boolean
  errorCode?: string
}

export namespace MailboxEvent {
  export enum Type {
    UNKNOWN = 'UNKNOWN',
    CHALLENGE = 'CHALLENGE',
    ENVELOPES = 'ENVELOPES',
    ERROR = 'ERROR'
  }

  enum __TypeValues {
    UNKNOWN = 0,
    CHALLENGE = 1,
    ENVELOPES = 2,
    ERROR = 3
  }

  export namespace Type {
    export const codec = (): Codec<Type> => {
      return enumeration<Type>(__TypeValues)
    }
  }

  let _codec: Codec<MailboxEvent>

  export const codec = (): Codec<MailboxEvent> => {
    if (_codec == null) {
      _codec = message<MailboxEvent>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.type != null && __TypeValues[obj.type] !== 0) {
          w.uint32(8)
          MailboxEvent.Type.codec().encode(obj.type, w)
        }

        if (obj.nonce != null) {
          w.uint32(18)
          w.bytes(obj.nonce)
        }

        if (obj.envelopes != null && obj.envelopes.length > 0) {
          for (const value of obj.envelopes) {
            w.uint32(26)
            w.bytes(value)
          }
        }

        if ((obj.caughtUp != null && obj.caughtUp !== false)) {
          w.uint32(32)
          w.bool(obj.caughtUp)
        }

        if (obj.errorCode != null) {
          w.uint32(42)
          w.string(obj.errorCode)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          type: Type.UNKNOWN,
          envelopes: [],
          caughtUp: false
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.type = MailboxEvent.Type.codec().decode(reader)
              break
            }
            case 2: {
              obj.nonce = reader.bytes()
              break
            }
            case 3: {
              if (opts.limits?.envelopes != null && obj.envelopes.length === opts.limits.envelopes) {
                throw new MaxLengthError('Decode error - repeated field "envelopes" had too many elements')
              }

              obj.envelopes.push(reader.bytes())
              break
            }
            case 4: {
              obj.caughtUp = reader.bool()
              break
            }
            case 5: {
              obj.errorCode = reader.string()
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
          envelopes: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.type`,
                value: MailboxEvent.Type.codec().decode(reader)
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.nonce`,
                value: reader.bytes()
              }
              break
            }
            case 3: {
              if (opts.limits?.envelopes != null && obj.envelopes === opts.limits.envelopes) {
                throw new MaxLengthError('Streaming decode error - repeated field "envelopes" had too many elements')
              }

              yield {
                field: `${prefix}.envelopes[]`,
                index: obj.envelopes,
                value: reader.bytes()
              }

              obj.envelopes++

              break
            }
            case 4: {
              yield {
                field: `${prefix}.caughtUp`,
                value: reader.bool()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.errorCode`,
                value: reader.string()
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

  export interface MailboxEventTypeFieldEvent {
    field: '$.type'
    value: MailboxEvent.Type
  }

  export interface MailboxEventNonceFieldEvent {
    field: '$.nonce'
    value: Uint8Array<ArrayBuffer>
  }

  export interface MailboxEventEnvelopesFieldEvent {
    field: '$.envelopes[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export interface MailboxEventCaughtUpFieldEvent {
    field: '$.caughtUp'
    value: boolean
  }

  export interface MailboxEventErrorCodeFieldEvent {
    field: '$.errorCode'
    value: string
  }

  export function encode (obj: Partial<MailboxEvent>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, MailboxEvent.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<MailboxEvent>): MailboxEvent {
    return decodeMessage(buf, MailboxEvent.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<MailboxEvent>): Generator<MailboxEventTypeFieldEvent | MailboxEventNonceFieldEvent | MailboxEventEnvelopesFieldEvent | MailboxEventCaughtUpFieldEvent | MailboxEventErrorCodeFieldEvent> {
    return streamMessage(buf, MailboxEvent.codec(), opts)
  }
}
