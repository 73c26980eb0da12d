// A stable 32-bit string hash (MurmurHash3 x86_32 over UTF-8) for rendezvous
// weights: the same value on every machine and every Node version.

const encoder = new TextEncoder();

export function murmur3(text: string, seed = 0): number {
  const data = encoder.encode(text);
  let h = seed >>> 0;
  const c1 = 0xcc9e2d51;
  const c2 = 0x1b873593;
  const blocks = data.length >>> 2;
  for (let i = 0; i < blocks; i++) {
    const o = i << 2;
    let k = data[o] | (data[o + 1] << 8) | (data[o + 2] << 16) | (data[o + 3] << 24);
    k = Math.imul(k, c1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, c2);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  let k = 0;
  const tail = blocks << 2;
  switch (data.length & 3) {
    case 3:
      k ^= data[tail + 2] << 16;
    // falls through
    case 2:
      k ^= data[tail + 1] << 8;
    // falls through
    case 1:
      k ^= data[tail];
      k = Math.imul(k, c1);
      k = (k << 15) | (k >>> 17);
      k = Math.imul(k, c2);
      h ^= k;
  }
  return fmix32(h ^ data.length);
}

/** MurmurHash3's finaliser: a bijective 32-bit avalanche mix. */
function fmix32(x: number): number {
  let h = x >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Combines two hashes into a weight: every bit of both affects every bit of the result. */
function combine(a: number, b: number): number {
  return fmix32(Math.imul(a ^ ((b << 16) | (b >>> 16)), 0x9e3779b1) ^ fmix32(b + 0x7f4a7c15));
}

/**
 * Rendezvous weights for one service and purpose ("place", "master"): the host
 * names' hashes are computed once per scheduling run and combined per service.
 */
export class Weights {
  private readonly hostHash = new Map<string, number>();
  private readonly seedHash: number;
  constructor(seed: string) {
    this.seedHash = murmur3(seed);
  }
  private host(name: string): number {
    let h = this.hostHash.get(name);
    if (h === undefined) {
      h = murmur3(name, this.seedHash);
      this.hostHash.set(name, h);
    }
    return h;
  }
  /** A function host -> weight for this service and purpose. */
  forService(purpose: string, service: string): (host: string) => number {
    const s = murmur3(`${purpose}\u0000${service}`, this.seedHash);
    return (host) => combine(s, this.host(host));
  }
}
