import {
  CLOUD_CHOICES,
  type CloudChoice,
  type CredentialKind,
  type CredentialStore,
  type IdentityForm,
} from '../lib/identity-form.js';
import { errorAt, type FieldErrors } from '../lib/validation.js';
import { RadioGroup, SelectField, TextField } from './fields.js';

/** Who the connection is: tenant, cloud, app registration, where its credential is kept, and division. */
export function IdentityFields({
  form,
  onChange,
  errors,
  creating,
}: {
  form: IdentityForm;
  onChange: (change: Partial<IdentityForm>) => void;
  errors: FieldErrors;
  creating: boolean;
}) {
  return (
    <>
      {creating && (
        <TextField
          label="Connection ID"
          required
          hint="1–64 lower-case letters, digits and inner dashes, e.g. contoso-emea. Links are kept under it, so it cannot change later."
          value={form.id}
          error={errorAt(errors, 'id')}
          onValue={(id) => {
            onChange({ id });
          }}
        />
      )}
      <TextField
        label="Display name"
        hint="For people; shown in the console and reports."
        value={form.displayName}
        error={errorAt(errors, 'displayName')}
        autoComplete="organization"
        spellcheck
        onValue={(displayName) => {
          onChange({ displayName });
        }}
      />
      <TextField
        label="Tenant ID or domain"
        required
        hint="The directory (tenant) ID, a GUID, or one of its verified domains such as contoso.onmicrosoft.com."
        value={form.tenantId}
        error={errorAt(errors, 'tenantId')}
        onValue={(tenantId) => {
          onChange({ tenantId });
        }}
      />
      <SelectField<CloudChoice>
        label="Cloud"
        value={form.cloud}
        choices={CLOUD_CHOICES}
        error={
          errorAt(errors, 'cloud') === undefined || form.cloud === 'custom'
            ? undefined
            : errorAt(errors, 'cloud')
        }
        onValue={(cloud) => {
          onChange({ cloud });
        }}
      />
      {form.cloud === 'custom' && (
        <div class="field-row">
          <TextField
            label="Login endpoint"
            inputMode="url"
            placeholder="https://login.example.com"
            value={form.authorityHost}
            error={errorAt(errors, 'cloud.authorityHost', 'cloud')}
            onValue={(authorityHost) => {
              onChange({ authorityHost });
            }}
          />
          <TextField
            label="Graph endpoint"
            inputMode="url"
            placeholder="https://graph.example.com"
            value={form.graphBaseUrl}
            error={errorAt(errors, 'cloud.graphBaseUrl')}
            onValue={(graphBaseUrl) => {
              onChange({ graphBaseUrl });
            }}
          />
        </div>
      )}
      <TextField
        label="Application (client) ID"
        required
        hint="The app registration EntraSync signs in as, a GUID."
        value={form.clientId}
        error={errorAt(errors, 'clientId')}
        onValue={(clientId) => {
          onChange({ clientId });
        }}
      />
      <div class="field-row">
        <RadioGroup<CredentialKind>
          legend="Credential type"
          value={form.credential}
          choices={[
            { value: 'certificate', label: 'Certificate (recommended)' },
            { value: 'clientSecret', label: 'Client secret' },
          ]}
          onValue={(credential) => {
            onChange({ credential });
          }}
        />
        <RadioGroup<CredentialStore>
          legend="Kept in"
          value={form.store}
          choices={[
            { value: 'keyVault', label: "The app's Key Vault" },
            { value: 'env', label: 'An app setting' },
          ]}
          onValue={(store) => {
            onChange({ store });
          }}
        />
      </div>
      <TextField
        label="Credential reference"
        required
        hint={
          form.store === 'keyVault'
            ? 'The name of the Key Vault secret that holds it. The secret itself never goes into the connection.'
            : 'The name of the app setting that holds it (which may itself be a Key Vault reference).'
        }
        value={form.reference}
        error={errorAt(errors, 'clientSecret', 'certificate')}
        onValue={(reference) => {
          onChange({ reference });
        }}
      />
      <TextField
        label="Division"
        required
        hint="The company or division these users belong to. E-mail matching stays within it."
        value={form.division}
        error={errorAt(errors, 'division')}
        spellcheck
        onValue={(division) => {
          onChange({ division });
        }}
      />
    </>
  );
}
