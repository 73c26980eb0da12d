// CPython's random.Random, reduced to what float-compat needs: seeding with a
// 32-bit integer and random(). Upstream float draws every scheduling decision
// from it, so each step must match CPython (Modules/_randommodule.c) exactly.

const N = 624;
const M = 397;
const MATRIX_A = 0x9908b0df;
const UPPER_MASK = 0x80000000;
const LOWER_MASK = 0x7fffffff;

/** A Mersenne Twister seeded the way CPython seeds `random.Random(seed)`. */
export class PyRandom {
  // A Uint32Array stores every assignment modulo 2^32, which is the wrapping
  // arithmetic the C code gets from uint32_t (products still go through Math.imul).
  private readonly state = new Uint32Array(N);
  private index = N;

  /** `seed` must be an integer in [0, 2^32): CPython turns such a seed into the one-word key [seed]. */
  constructor(seed: number) {
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
      throw new RangeError(`PyRandom seed must be an integer in [0, 2^32), got ${seed}`);
    }
    // CPython builds the key from the seed's 32-bit words, and uses the key [0]
    // (not an empty key) for seed 0, so every supported seed is exactly one word.
    this.initByArray([seed]);
  }

  /** A float in [0, 1) with 53 random bits, as CPython's random(). */
  random(): number {
    const a = this.nextUint32() >>> 5; // 27 bits
    const b = this.nextUint32() >>> 6; // 26 bits
    return (a * 67108864 + b) / 9007199254740992; // (a * 2^26 + b) / 2^53
  }

  /** The next raw, tempered 32-bit output (CPython's genrand_uint32, i.e. getrandbits(32)). */
  nextUint32(): number {
    if (this.index >= N) this.regenerate();
    let y = this.state[this.index++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  private initGenrand(s: number): void {
    const mt = this.state;
    mt[0] = s;
    for (let i = 1; i < N; i++) {
      const prev = mt[i - 1];
      mt[i] = Math.imul(1812433253, prev ^ (prev >>> 30)) + i;
    }
    this.index = N;
  }

  private initByArray(key: number[]): void {
    const mt = this.state;
    this.initGenrand(19650218);
    let i = 1;
    let j = 0;
    for (let k = Math.max(N, key.length); k > 0; k--) {
      const prev = mt[i - 1];
      mt[i] = (mt[i] ^ Math.imul(prev ^ (prev >>> 30), 1664525)) + key[j] + j;
      i++;
      j++;
      if (i >= N) {
        mt[0] = mt[N - 1];
        i = 1;
      }
      if (j >= key.length) j = 0;
    }
    for (let k = N - 1; k > 0; k--) {
      const prev = mt[i - 1];
      mt[i] = (mt[i] ^ Math.imul(prev ^ (prev >>> 30), 1566083941)) - i;
      i++;
      if (i >= N) {
        mt[0] = mt[N - 1];
        i = 1;
      }
    }
    mt[0] = 0x80000000; // MSB is 1, assuring a non-zero initial array
  }

  /** Generates the next N words of state at once (the standard MT19937 twist). */
  private regenerate(): void {
    const mt = this.state;
    for (let kk = 0; kk < N; kk++) {
      const y = (mt[kk] & UPPER_MASK) | (mt[(kk + 1) % N] & LOWER_MASK);
      mt[kk] = mt[(kk + M) % N] ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
    }
    this.index = 0;
  }
}
