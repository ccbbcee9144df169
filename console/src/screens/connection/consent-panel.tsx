import { useEffect, useState } from 'preact/hooks';
import type { ConnectionView, ConsentStart } from '../../api/types.js';
import { useApi } from '../../app/services.js';
import { ErrorAlert } from '../../components/error-alert.js';
import { formatDateTime } from '../../lib/format.js';

const POLL_MS = 2000;
/** How long a consent link lives when the API does not say (CONSENT_STATE_LIFETIME_MS in shared/consent). */
const DEFAULT_LINK_LIFETIME_MS = 10 * 60_000;

type ConsentStep =
  | { readonly step: 'idle' }
  | { readonly step: 'starting' }
  | {
      readonly step: 'waiting';
      readonly start: ConsentStart;
      readonly expiresAt: number;
      readonly tabOpened: boolean;
    }
  | { readonly step: 'granted' }
  | { readonly step: 'expired' }
  | { readonly step: 'failed'; readonly error: unknown };

/**
 * Admin consent: the tenant's administrator consents on Microsoft's page in a new tab; this tab watches
 * the connection until the consent callback has recorded it (or the signed link expires).
 */
export function ConsentPanel({
  connection,
  onSaved,
}: {
  connection: ConnectionView;
  onSaved: (connection: ConnectionView) => void;
}) {
  const api = useApi();
  const [state, setState] = useState<ConsentStep>({ step: 'idle' });
  const grantedBefore = connection.consent?.grantedAt ?? null;

  useEffect(() => {
    if (state.step !== 'waiting') return undefined;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = async (): Promise<void> => {
      try {
        const view = await api.getConnection(connection.id);
        if (stopped) return;
        if (view.consent !== null && view.consent.grantedAt !== grantedBefore) {
          onSaved(view);
          setState({ step: 'granted' });
          return;
        }
      } catch {
        // A failed poll is retried; the link's expiry ends the wait.
      }
      if (stopped) return;
      if (Date.now() > state.expiresAt) {
        setState({ step: 'expired' });
        return;
      }
      timer = setTimeout(() => void poll(), POLL_MS);
    };
    timer = setTimeout(() => void poll(), POLL_MS);
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [state, api, connection.id, grantedBefore, onSaved]);

  const start = async (): Promise<void> => {
    // Opened now, inside the click, so that popup blockers allow it; pointed at Microsoft once the URL is here.
    const tab = window.open('', '_blank');
    if (tab) tab.opener = null;
    setState({ step: 'starting' });
    try {
      const consent = await api.startConsent(connection.id);
      if (tab) tab.location.href = consent.consentUrl;
      const expiresAt =
        consent.expiresAt === undefined
          ? Date.now() + DEFAULT_LINK_LIFETIME_MS
          : Date.parse(consent.expiresAt);
      setState({ step: 'waiting', start: consent, expiresAt, tabOpened: tab !== null });
    } catch (error) {
      tab?.close();
      setState({ step: 'failed', error });
    }
  };

  const consent = connection.consent;
  return (
    <section class="card" aria-labelledby="consent-heading">
      <h2 id="consent-heading">Admin consent</h2>
      {consent ? (
        <p>
          <span class="badge tone-good">Granted</span> {formatDateTime(consent.grantedAt)}
          {consent.organizationName !== null && <> by {consent.organizationName}</>} (tenant{' '}
          <span class="mono">{consent.tenantId}</span>).
        </p>
      ) : (
        <p>
          An administrator of the tenant must consent once, so that EntraSync may read its users and groups
          (Microsoft Graph User.Read.All and GroupMember.Read.All, application permissions). Until then, no
          preview, import or sync can run.
        </p>
      )}
      <div class="actions">
        <button
          type="button"
          class={`button ${consent ? '' : 'button-primary'}`}
          disabled={state.step === 'starting' || state.step === 'waiting'}
          onClick={() => void start()}
        >
          {consent ? 'Grant admin consent again' : 'Grant admin consent'}
        </button>
      </div>
      <div role="status" class="consent-status">
        {state.step === 'starting' && <p>Preparing the consent page…</p>}
        {state.step === 'waiting' && (
          <div class="alert alert-info">
            <p>
              <span class="spinner" aria-hidden="true" />
              Waiting for consent.{' '}
              {state.tabOpened
                ? 'The consent page opened in a new tab: sign in there as an administrator of the tenant and accept.'
                : 'Your browser blocked the new tab: open the consent page yourself.'}
            </p>
            <p>
              <a href={state.start.consentUrl} target="_blank" rel="noopener noreferrer">
                Open the consent page
              </a>{' '}
              <span class="muted">
                (the link works until {formatDateTime(new Date(state.expiresAt).toISOString())})
              </span>
            </p>
          </div>
        )}
        {state.step === 'granted' && (
          <div class="alert alert-success">
            <p class="alert-title">Consent granted</p>
            <p>EntraSync can now read this tenant. Next: choose the groups to import.</p>
          </div>
        )}
        {state.step === 'expired' && (
          <div class="alert alert-warning">
            <p>
              The consent link expired before consent was recorded. If the consent tab showed an error, it
              says what to do; then grant admin consent again.
            </p>
          </div>
        )}
      </div>
      {state.step === 'failed' && (
        <ErrorAlert error={state.error} title="The consent page could not be prepared." />
      )}
    </section>
  );
}
