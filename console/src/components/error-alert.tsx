import type { ComponentChildren } from 'preact';
import { describeError } from '../api/errors.js';

/** A failure as the API explained it: what happened, and what to do next when the API says. */
export function ErrorAlert({
  error,
  title,
  children,
}: {
  error: unknown;
  title?: string;
  children?: ComponentChildren;
}) {
  const { message, nextStep } = describeError(error);
  return (
    <div class="alert alert-error" role="alert">
      {title !== undefined && <p class="alert-title">{title}</p>}
      <p class="pre-line">{message}</p>
      {nextStep !== null && (
        <p>
          <strong>Next step:</strong> {nextStep}
        </p>
      )}
      {children}
    </div>
  );
}

export function Notice({
  tone = 'info',
  children,
  live = false,
}: {
  tone?: 'info' | 'success' | 'warning';
  children: ComponentChildren;
  live?: boolean;
}) {
  return (
    <div class={`alert alert-${tone}`} role={live ? 'status' : undefined}>
      {children}
    </div>
  );
}
