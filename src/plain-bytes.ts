/**
 * Bytes as the API promises them: a plain Uint8Array. In Node, LevelDB and the protobuf decoder
 * hand back Buffers, which print, compare and serialise differently, so without this the type
 * of a value would tell which node answered. A view over the same memory: nothing is copied.
 */
export function plainBytes (bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}
