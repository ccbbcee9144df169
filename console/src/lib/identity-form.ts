import type { CloudName } from '../../../shared/graph/clouds.js';
import type { ConnectionConfigDocument } from '../api/types.js';

/**
 * The identity of a connection as a form edits it: flat strings, one per field. Converted to and from
 * the document so that the schema, not the form, decides what is valid.
 */
export type CloudChoice = CloudName | 'custom';
export type CredentialKind = 'certificate' | 'clientSecret';
export type CredentialStore = 'keyVault' | 'env';

export interface IdentityForm {
  id: string;
  displayName: string;
  tenantId: string;
  cloud: CloudChoice;
  authorityHost: string;
  graphBaseUrl: string;
  clientId: string;
  credential: CredentialKind;
  store: CredentialStore;
  reference: string;
  division: string;
}

export const CLOUD_CHOICES: readonly { value: CloudChoice; label: string }[] = [
  { value: 'global', label: 'Global (login.microsoftonline.com)' },
  { value: 'usgov', label: 'US Government GCC High (login.microsoftonline.us)' },
  { value: 'usgovdod', label: 'US Government DoD (login.microsoftonline.us)' },
  { value: 'china', label: 'China, operated by 21Vianet (login.chinacloudapi.cn)' },
  { value: 'custom', label: 'Custom endpoints' },
];

export const EMPTY_IDENTITY: IdentityForm = {
  id: '',
  displayName: '',
  tenantId: '',
  cloud: 'global',
  authorityHost: '',
  graphBaseUrl: '',
  clientId: '',
  credential: 'certificate',
  store: 'keyVault',
  reference: '',
  division: '',
};

function referenceOf(value: unknown): { store: CredentialStore; reference: string } | null {
  if (typeof value !== 'object' || value === null) return null;
  const { keyVault, env } = value as { keyVault?: unknown; env?: unknown };
  if (typeof keyVault === 'string') return { store: 'keyVault', reference: keyVault };
  if (typeof env === 'string') return { store: 'env', reference: env };
  return null;
}

export function identityFromDocument(document: ConnectionConfigDocument): IdentityForm {
  const cloud = document.cloud ?? 'global';
  const secret = referenceOf(document.clientSecret);
  const certificate = referenceOf(document.certificate);
  const credential = certificate ?? secret;
  return {
    id: document.id,
    displayName: document.displayName ?? '',
    tenantId: document.tenantId,
    cloud: typeof cloud === 'string' ? cloud : 'custom',
    authorityHost: typeof cloud === 'string' ? '' : cloud.authorityHost,
    graphBaseUrl: typeof cloud === 'string' ? '' : cloud.graphBaseUrl,
    clientId: document.clientId,
    credential: certificate ? 'certificate' : 'clientSecret',
    store: credential?.store ?? 'keyVault',
    reference: credential?.reference ?? '',
    division: document.division,
  };
}

/** The document with the form's identity laid over it; everything else in it is kept. */
export function applyIdentity(
  document: ConnectionConfigDocument | null,
  form: IdentityForm,
): ConnectionConfigDocument {
  const { clientSecret: _secret, certificate: _certificate, displayName: _name, ...rest } = document ?? {};
  const reference =
    form.store === 'keyVault' ? { keyVault: form.reference.trim() } : { env: form.reference.trim() };
  const displayName = form.displayName.trim();
  return {
    ...rest,
    id: form.id.trim(),
    ...(displayName === '' ? {} : { displayName }),
    tenantId: form.tenantId.trim(),
    cloud:
      form.cloud === 'custom'
        ? { authorityHost: form.authorityHost.trim(), graphBaseUrl: form.graphBaseUrl.trim() }
        : form.cloud,
    clientId: form.clientId.trim(),
    [form.credential]: reference,
    division: form.division.trim(),
  };
}
