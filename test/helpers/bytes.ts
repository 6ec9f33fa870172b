/** Whether `needle` occurs anywhere in `haystack` (what a node operator could find by scanning) */
export function containsBytes (haystack: Uint8Array, needle: Uint8Array): boolean {
  return Buffer.from(haystack.buffer, haystack.byteOffset, haystack.byteLength).includes(Buffer.from(needle))
}
