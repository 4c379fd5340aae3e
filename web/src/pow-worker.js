// Web Worker: solves a join challenge off the main thread.
// in:  {challenge, difficulty}
// out: {progress: tried} ... then {nonce} or {error}
import { solvePow } from './pow.js';

self.onmessage = async (e) => {
  const { challenge, difficulty } = e.data || {};
  try {
    let last = 0;
    const nonce = await solvePow(challenge, difficulty, {
      onProgress: (tried) => {
        const now = Date.now();
        if (now - last > 100) {
          last = now;
          self.postMessage({ progress: tried });
        }
      },
    });
    self.postMessage({ nonce });
  } catch (err) {
    self.postMessage({ error: String(err?.message || err) });
  }
};
