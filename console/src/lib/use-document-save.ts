import { useRef, useState } from 'preact/hooks';
import { ApiError, type FieldIssue } from '../api/errors.js';
import type { ConnectionConfigDocument, ConnectionView } from '../api/types.js';
import { useApi } from '../app/services.js';
import { validateDocument } from './validation.js';

/**
 * Saving an edited connection document, as the Groups and Settings tabs do: checked in the browser
 * first, then one PUT; the server's field issues join the browser's, and the issue summary takes focus
 * so that a keyboard or screen-reader user lands on what to fix.
 */
export function useDocumentSave(connectionId: string, onSaved: (view: ConnectionView) => void) {
  const api = useApi();
  const [submitted, setSubmitted] = useState(false);
  const [serverIssues, setServerIssues] = useState<readonly FieldIssue[]>([]);
  const [saving, setSaving] = useState(false);
  const [saved, setSaved] = useState(false);
  const [saveError, setSaveError] = useState<unknown>(null);
  const summary = useRef<HTMLDivElement>(null);

  /** The issues to show for this document: none until the first attempt to save. */
  const issuesOf = (document: ConnectionConfigDocument): FieldIssue[] =>
    submitted ? [...validateDocument(document), ...serverIssues] : [];

  /** The form changed: the server's issues are about the old version, and it is no longer saved. */
  const edited = (): void => {
    setServerIssues([]);
    setSaved(false);
  };

  /** The form went back to the stored document. */
  const discarded = (): void => {
    setSubmitted(false);
    setServerIssues([]);
  };

  const save = async (document: ConnectionConfigDocument): Promise<void> => {
    setSubmitted(true);
    setSaved(false);
    setSaveError(null);
    if (validateDocument(document).length > 0) {
      summary.current?.focus();
      return;
    }
    setSaving(true);
    try {
      const view = await api.putConnection(connectionId, document);
      setSubmitted(false);
      setSaved(true);
      onSaved(view);
    } catch (error) {
      if (error instanceof ApiError && error.issues.length > 0) {
        setServerIssues(error.issues);
        summary.current?.focus();
      } else {
        setSaveError(error);
      }
    } finally {
      setSaving(false);
    }
  };

  return { summary, saving, saved, saveError, issuesOf, edited, discarded, save };
}
