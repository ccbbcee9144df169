import { useEffect, useMemo, useState } from 'preact/hooks';
import { adminApi } from '../api/admin-api.js';
import { ApiClient, apiRootFor } from '../api/client.js';
import { loadConsoleConfig } from '../auth/console-config.js';
import { authorityUnreachable, describeAuthError, Session } from '../auth/session.js';
import { App } from './app.js';
import { ServicesContext, type ConsoleServices } from './services.js';
import {
  AccessPage,
  ForbiddenPage,
  SignInPage,
  StartupFailedPage,
  UnreachablePage,
} from './sign-in-pages.js';

type BootState =
  | { readonly step: 'starting' }
  | { readonly step: 'failed'; readonly message: string }
  | { readonly step: 'unreachable'; readonly authority: string }
  | { readonly step: 'signed-out'; readonly session: Session; readonly error?: string }
  | { readonly step: 'signed-in'; readonly session: Session }
  | { readonly step: 'forbidden'; readonly session: Session };

/** Where the console's own files are: the folder of index.html, e.g. https://host/api/console/. */
const consoleBase = new URL('./', location.href);

/**
 * Start-up: the sign-in settings, MSAL (completing a sign-in that has just come back), then the app.
 * Every way this can fail ends on a page that says what to do.
 */
export function Boot() {
  const [state, setState] = useState<BootState>({ step: 'starting' });

  useEffect(() => {
    void (async () => {
      let authority = '';
      try {
        const config = await loadConsoleConfig(consoleBase);
        authority = config.authority;
        const session = await Session.start(config);
        setState(session.account ? { step: 'signed-in', session } : { step: 'signed-out', session });
      } catch (error) {
        if (authority !== '' && (await authorityUnreachable(authority))) {
          setState({ step: 'unreachable', authority });
        } else {
          setState({ step: 'failed', message: describeAuthError(error) });
        }
      }
    })();
  }, []);

  const session = state.step === 'signed-in' ? state.session : null;
  const services = useMemo((): ConsoleServices | null => {
    if (session === null) return null;
    const client = new ApiClient(
      apiRootFor(consoleBase),
      async () => await session.accessToken(),
      () => {
        setState({ step: 'forbidden', session });
      },
    );
    return {
      api: adminApi(client),
      userName: session.account?.username ?? session.account?.name ?? 'you',
      signOut: () => void session.signOut(),
    };
  }, [session]);

  switch (state.step) {
    case 'starting':
      return (
        <AccessPage title="EntraSync">
          <p role="status">Signing in…</p>
        </AccessPage>
      );
    case 'failed':
      return <StartupFailedPage message={state.message} />;
    case 'unreachable':
      return <UnreachablePage authority={state.authority} />;
    case 'signed-out': {
      const current = state.session;
      return (
        <SignInPage
          error={state.error}
          onSignIn={async () => {
            try {
              await current.signIn();
            } catch (error) {
              if (await authorityUnreachable(current.authority)) {
                setState({ step: 'unreachable', authority: current.authority });
              } else {
                setState({ step: 'signed-out', session: current, error: describeAuthError(error) });
              }
            }
          }}
        />
      );
    }
    case 'forbidden':
      return (
        <ForbiddenPage
          userName={state.session.account?.username ?? 'an account'}
          onSignOut={() => void state.session.signOut()}
        />
      );
    case 'signed-in':
      return services === null ? null : (
        <ServicesContext.Provider value={services}>
          <App />
        </ServicesContext.Provider>
      );
  }
}
