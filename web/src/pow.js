// Proof of work for the join route's challenge (docs/API.md, "Joining"):
// find a decimal nonce such that SHA-256(challenge + ":" + nonce) has
// `difficulty` leading zero bits. Pure (WebCrypto only): used by the Web
// Worker (pow-worker.js), as a main-thread fallback and by the unit tests.

/** Number of leading zero bits of a byte array. */
export function leadingZeroBits(bytes) {
  let n = 0;
  for (const b of bytes) {
    if (b === 0) {
      n += 8;
      continue;
    }
    return n + Math.clz32(b) - 24;
  }
  return n;
}

const enc = new TextEncoder();

/** SHA-256 of challenge + ":" + nonce has at least difficulty leading zero bits. */
export async function checkPow(challenge, nonce, difficulty) {
  const d = await crypto.subtle.digest('SHA-256', enc.encode(`${challenge}:${nonce}`));
  return leadingZeroBits(new Uint8Array(d)) >= difficulty;
}

/**
 * Solves a challenge. Digests are computed in batches (WebCrypto is async, so
 * a batch amortises the promise overhead). onProgress(tried) is called after
 * each batch; shouldStop() may end the search early (→ null).
 * → the nonce as a decimal string.
 */
export async function solvePow(challenge, difficulty, { onProgress, shouldStop, batch = 256, start = 0 } = {}) {
  const d = Math.max(0, Math.min(64, Math.floor(Number(difficulty) || 0)));
  const prefix = `${challenge}:`;
  for (let base = start; ; base += batch) {
    if (shouldStop && shouldStop()) return null;
    const digests = [];
    for (let i = 0; i < batch; i++) digests.push(crypto.subtle.digest('SHA-256', enc.encode(prefix + (base + i))));
    const out = await Promise.all(digests);
    for (let i = 0; i < out.length; i++) {
      if (leadingZeroBits(new Uint8Array(out[i])) >= d) return String(base + i);
    }
    if (onProgress) onProgress(base + batch - start);
  }
}

/** Expected number of hashes for a difficulty (2^difficulty). */
export const expectedWork = (difficulty) => 2 ** Math.max(0, Number(difficulty) || 0);
