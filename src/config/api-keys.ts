// API_KEYS: comma-separated keys or `sha256:<hex>` digests of keys. Parsed here for the config check at
// start and for the auth plugin, which keeps only the digests.
import { createHash } from 'node:crypto';

const HEX_DIGEST = /^[0-9a-f]{64}$/i;

export function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** Digests of the configured keys; throws naming the bad entry (never the key itself). */
export function parseApiKeys(value: string | undefined): Buffer[] {
  const entries = (value ?? '')
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  return entries.map((entry, i) => {
    if (!entry.toLowerCase().startsWith('sha256:')) return sha256(entry);
    const hex = entry.slice('sha256:'.length);
    if (!HEX_DIGEST.test(hex)) throw new Error(`API_KEYS entry ${i + 1}: sha256: must be followed by 64 hex digits`);
    return Buffer.from(hex, 'hex');
  });
}
