import { useRef, useState } from 'preact/hooks';
import { ApiError, type FieldIssue } from '../api/errors.js';
import { href, navigate } from '../app/routes.js';
import { useApi } from '../app/services.js';
import { ErrorAlert } from '../components/error-alert.js';
import { IdentityFields } from '../components/identity-fields.js';
import { IssueSummary } from '../components/issue-summary.js';
import { PageHeading } from '../components/page-heading.js';
import { applyIdentity, EMPTY_IDENTITY, type IdentityForm } from '../lib/identity-form.js';
import { fieldErrors, validateDocument } from '../lib/validation.js';

/** Creates a connection: its identity first; groups, scope and policy come after consent. */
export function NewConnectionScreen() {
  const api = useApi();
  const [form, setForm] = useState<IdentityForm>(EMPTY_IDENTITY);
  const [submitted, setSubmitted] = useState(false);
  const [serverIssues, setServerIssues] = useState<readonly FieldIssue[]>([]);
  const [failure, setFailure] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const summary = useRef<HTMLDivElement>(null);

  const document = applyIdentity(null, form);
  // Problems show once the administrator has tried to save, then follow every keystroke.
  const issues = submitted ? [...validateDocument(document), ...serverIssues] : [];
  const errors = fieldErrors(issues);

  const submit = async (): Promise<void> => {
    setSubmitted(true);
    setFailure(null);
    if (validateDocument(document).length > 0) {
      summary.current?.focus();
      return;
    }
    setBusy(true);
    try {
      // PUT replaces an existing connection; creating must never do that by accident.
      const existing = await api.getConnection(document.id).then(
        () => true,
        (error: unknown) => {
          if (error instanceof ApiError && error.status === 404) return false;
          throw error;
        },
      );
      if (existing) {
        setServerIssues([
          { path: 'id', message: 'a connection with this id exists already; choose another' },
        ]);
        summary.current?.focus();
        return;
      }
      await api.putConnection(document.id, document);
      navigate({ screen: 'connection', id: document.id, tab: 'overview' });
    } catch (error) {
      if (error instanceof ApiError && error.issues.length > 0) {
        setServerIssues(error.issues);
        summary.current?.focus();
      } else {
        setFailure(error);
      }
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <nav class="breadcrumb" aria-label="Breadcrumb">
        <a href={href({ screen: 'connections' })}>Connections</a>
        <span aria-hidden="true"> / </span>
        <span aria-current="page">New connection</span>
      </nav>
      <PageHeading title="New connection" />
      <p class="lead">
        Connect one Microsoft Entra tenant. After saving, grant admin consent, then choose the groups to
        import.
      </p>
      <form
        class="card form"
        noValidate
        onSubmit={(event) => {
          event.preventDefault();
          void submit();
        }}
      >
        <div ref={summary} tabIndex={-1}>
          <IssueSummary issues={issues} />
        </div>
        {failure !== null && <ErrorAlert error={failure} title="The connection was not created." />}
        <IdentityFields
          form={form}
          errors={errors}
          creating
          onChange={(change) => {
            setForm((current) => ({ ...current, ...change }));
            setServerIssues([]);
          }}
        />
        <div class="actions">
          <button type="submit" class="button button-primary" disabled={busy}>
            {busy ? 'Creating…' : 'Create connection'}
          </button>
          <a class="button" href={href({ screen: 'connections' })}>
            Cancel
          </a>
        </div>
      </form>
    </>
  );
}
