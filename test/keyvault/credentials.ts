import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/identity';
import type { Simulator } from '../simulator/index.js';

/** One getToken call: what the Key Vault client asked its credential for. */
export interface TokenRequest {
  readonly scopes: readonly string[];
  readonly tenantId: string | undefined;
}

export interface RecordingCredential extends TokenCredential {
  readonly calls: readonly TokenRequest[];
}

/**
 * A TokenCredential whose tokens the simulated tenant signs (so a fake Key Vault can check them
 * against the simulator's JWKS), with the audience Key Vault tokens carry. The simulator's token
 * endpoint only issues Graph tokens, hence sim.issueAccessToken. Records what it was asked for.
 */
export function simulatorVaultCredential(
  sim: Simulator,
  options: { tenant?: string; audience?: string; lifetimeSeconds?: number } = {},
): RecordingCredential {
  const calls: TokenRequest[] = [];
  return {
    calls,
    async getToken(scopes: string | string[], getTokenOptions?: GetTokenOptions): Promise<AccessToken> {
      calls.push({
        scopes: typeof scopes === 'string' ? [scopes] : [...scopes],
        tenantId: getTokenOptions?.tenantId,
      });
      const lifetimeSeconds = options.lifetimeSeconds ?? 3600;
      const token = await sim.issueAccessToken({
        tenant: options.tenant ?? getTokenOptions?.tenantId ?? sim.tenant().tenantId,
        audience: options.audience ?? 'https://vault.azure.net',
        roles: [],
        lifetimeSeconds,
      });
      return { token, expiresOnTimestamp: Date.now() + lifetimeSeconds * 1000, tokenType: 'Bearer' };
    },
  };
}

/** A credential that hands out a fixed (for example a forged) token. */
export function fixedTokenCredential(token: string): TokenCredential {
  return {
    getToken: async () =>
      await Promise.resolve({
        token,
        expiresOnTimestamp: Date.now() + 3_600_000,
        tokenType: 'Bearer' as const,
      }),
  };
}
