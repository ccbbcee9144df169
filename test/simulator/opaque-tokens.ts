import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * Skip and delta tokens are state sealed with AES-256-GCM under a key made at start: self-contained
 * (no server-side cursor table to grow), opaque to clients as Graph's are, and a token altered or made
 * by another simulator fails to open.
 */
export class TokenSealer {
  private readonly key = randomBytes(32);

  seal(state: unknown): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([cipher.update(JSON.stringify(state), 'utf8'), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
  }

  /** The sealed state, or undefined for anything this sealer did not seal. */
  open(token: string): unknown {
    try {
      const raw = Buffer.from(token, 'base64url');
      if (raw.length < 29) return undefined;
      const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, 12));
      decipher.setAuthTag(raw.subarray(12, 28));
      const text = Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
      return JSON.parse(text) as unknown;
    } catch {
      return undefined;
    }
  }
}
