// zlib's CRC-32 (the one Python's zlib.crc32 computes), needed because upstream
// float seeds its generator with the CRC of the sorted host names.

/** Reflected form of the IEEE 802.3 polynomial 0x04C11DB7, as zlib uses it. */
const POLYNOMIAL = 0xedb88320;

/** One entry per byte value: the CRC contribution of that byte, precomputed once. */
const TABLE: Uint32Array = buildTable();

function buildTable(): Uint32Array {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? POLYNOMIAL ^ (c >>> 1) : c >>> 1;
    table[n] = c;
  }
  return table;
}

/** CRC-32 of `data` (strings are encoded as UTF-8), as an unsigned 32-bit integer. */
export function crc32(data: Uint8Array | string): number {
  const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
  let crc = 0xffffffff;
  for (const byte of bytes) crc = TABLE[(crc ^ byte) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
