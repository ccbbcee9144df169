import { href, useRoute } from './routes.js';
import { useServices } from './services.js';
import { PageHeading } from '../components/page-heading.js';
import { ConnectionScreen } from '../screens/connection/connection-screen.js';
import { ConnectionsScreen } from '../screens/connections.js';
import { NewConnectionScreen } from '../screens/new-connection.js';

/** The signed-in console: a header, and the screen the hash names. */
export function App() {
  const route = useRoute();
  const { userName, signOut } = useServices();
  return (
    <>
      <a
        class="skip-link"
        href="#main"
        onClick={(event) => {
          // The hash is the router's; move focus without touching it.
          event.preventDefault();
          document.getElementById('main')?.focus();
        }}
      >
        Skip to main content
      </a>
      <header class="topbar">
        <a class="brand" href={href({ screen: 'connections' })}>
          <span class="brand-mark" aria-hidden="true" />
          EntraSync
        </a>
        <span class="topbar-product">Admin console</span>
        <div class="topbar-user">
          <span class="topbar-name" title="Signed in as">
            {userName}
          </span>
          <button type="button" class="button button-on-dark" onClick={signOut}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" class="main" tabIndex={-1}>
        {route.screen === 'connections' && <ConnectionsScreen />}
        {route.screen === 'new-connection' && <NewConnectionScreen />}
        {route.screen === 'connection' && <ConnectionScreen id={route.id} tab={route.tab} />}
        {route.screen === 'run' && <ConnectionScreen id={route.id} tab="runs" runId={route.runId} />}
        {route.screen === 'not-found' && (
          <>
            <PageHeading title="Page not found" />
            <p>
              Nothing lives at <code>{route.path}</code>.{' '}
              <a href={href({ screen: 'connections' })}>Go to the connections</a>.
            </p>
          </>
        )}
      </main>
    </>
  );
}
