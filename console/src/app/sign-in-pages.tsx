import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';

/** The pages before the console proper: signing in, and every reason it could not. */

export function AccessPage({ title, children }: { title: string; children: ComponentChildren }) {
  useEffect(() => {
    document.title = `${title} · EntraSync`;
  }, [title]);
  return (
    <main class="access" id="main">
      <div class="access-card">
        <p class="brand brand-large" aria-hidden="true">
          <span class="brand-mark" /> EntraSync
        </p>
        <h1>{title}</h1>
        {children}
      </div>
    </main>
  );
}

export function SignInPage({
  error,
  onSignIn,
}: {
  error: string | undefined;
  onSignIn: () => Promise<void>;
}) {
  const [busy, setBusy] = useState(false);
  return (
    <AccessPage title="Sign in to the EntraSync console">
      <p>
        Sign in with your Microsoft Entra ID work account. You need the <strong>EntraSync.Admin</strong> role
        in the EntraSync app.
      </p>
      {error !== undefined && (
        <div class="alert alert-error" role="alert">
          <p>Sign-in did not complete: {error}</p>
        </div>
      )}
      <button
        type="button"
        class="button button-primary button-large"
        disabled={busy}
        onClick={() => {
          setBusy(true);
          void onSignIn().finally(() => {
            setBusy(false);
          });
        }}
      >
        Sign in with Microsoft
      </button>
    </AccessPage>
  );
}

export function UnreachablePage({ authority }: { authority: string }) {
  const metadata = `${authority.replace(/\/+$/, '')}/v2.0/.well-known/openid-configuration`;
  return (
    <AccessPage title="The sign-in service cannot be reached">
      <p>
        The console could not load the sign-in settings of <code>{authority}</code>.
      </p>
      <ol class="steps">
        <li>
          Open{' '}
          <a href={metadata} target="_blank" rel="noopener noreferrer">
            the authority's metadata
          </a>{' '}
          in a new tab.
        </li>
        <li>
          If the browser warns about the certificate, this is the development tenant's self-signed
          certificate: accept it (Advanced, then Proceed).
        </li>
        <li>Come back to this tab and reload.</li>
      </ol>
      <p class="muted">
        With a real Microsoft Entra tenant, it means the network or a proxy blocks {new URL(authority).host};
        ask whoever runs your network.
      </p>
      <ReloadButton />
    </AccessPage>
  );
}

export function ForbiddenPage({ userName, onSignOut }: { userName: string; onSignOut: () => void }) {
  return (
    <AccessPage title="You do not have access to EntraSync">
      <p>
        You are signed in as <strong>{userName}</strong> but do not hold the <strong>EntraSync.Admin</strong>{' '}
        role.
      </p>
      <p>
        Ask an administrator of your Microsoft Entra tenant (a Privileged Role Administrator, or an owner of
        the EntraSync app) to assign you the role: Microsoft Entra admin center, Enterprise applications,
        EntraSync, Users and groups, Add user/group, role <em>EntraSync.Admin</em>. Then sign out and sign in
        again: the role is read when you sign in.
      </p>
      <button type="button" class="button button-primary" onClick={onSignOut}>
        Sign out
      </button>
    </AccessPage>
  );
}

export function StartupFailedPage({ message }: { message: string }) {
  return (
    <AccessPage title="The console could not start">
      <div class="alert alert-error" role="alert">
        <p class="pre-line">{message}</p>
      </div>
      <p>Reload the page to try again. If it keeps failing, the Function app's log says more.</p>
      <ReloadButton />
    </AccessPage>
  );
}

function ReloadButton() {
  return (
    <button
      type="button"
      class="button button-primary"
      onClick={() => {
        location.reload();
      }}
    >
      Reload
    </button>
  );
}
