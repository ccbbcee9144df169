import { ApiError } from '../../api/errors.js';
import { href } from '../../app/routes.js';
import { ErrorAlert } from '../../components/error-alert.js';

/** A preview or import that could not start; consent and busy connections get a pointer to what helps. */
export function StartError({
  error,
  connectionId,
  what,
}: {
  error: unknown;
  connectionId: string;
  what: string;
}) {
  const code = error instanceof ApiError ? error.code : '';
  return (
    <ErrorAlert error={error} title={`The ${what} did not start.`}>
      {code === 'consent_missing' && (
        <p>
          <a href={href({ screen: 'connection', id: connectionId, tab: 'overview' })}>
            Grant admin consent on the Overview
          </a>
        </p>
      )}
      {code === 'conflict' && (
        <p>
          Another run of this connection is in progress; see{' '}
          <a href={href({ screen: 'connection', id: connectionId, tab: 'runs' })}>Runs</a>, and try again when
          it has finished.
        </p>
      )}
    </ErrorAlert>
  );
}
