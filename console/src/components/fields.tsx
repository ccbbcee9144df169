import type { ComponentChildren } from 'preact';
import { useId } from 'preact/hooks';

/**
 * Form fields with their label, hint and error tied to the control (aria-describedby, aria-invalid),
 * so a screen reader hears all three and a test can find the control by its label.
 */
interface FieldFrame {
  label: string;
  hint?: ComponentChildren;
  error?: string | undefined;
}

function describedBy(id: string, hint: unknown, error: string | undefined): string | undefined {
  const ids = [hint === undefined ? null : `${id}-hint`, error === undefined ? null : `${id}-error`].filter(
    (value): value is string => value !== null,
  );
  return ids.length === 0 ? undefined : ids.join(' ');
}

function Extras({ id, hint, error }: { id: string; hint: ComponentChildren; error: string | undefined }) {
  return (
    <>
      {hint !== undefined && (
        <p class="field-hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
      {error !== undefined && (
        <p class="field-error" id={`${id}-error`}>
          {error}
        </p>
      )}
    </>
  );
}

export function TextField({
  label,
  hint,
  error,
  value,
  onValue,
  type = 'text',
  required = false,
  placeholder,
  autoComplete = 'off',
  inputMode,
  class: className,
  spellcheck = false,
}: FieldFrame & {
  value: string;
  onValue: (value: string) => void;
  type?: 'text' | 'search';
  required?: boolean;
  placeholder?: string;
  autoComplete?: string;
  inputMode?: 'numeric' | 'text' | 'url';
  class?: string;
  spellcheck?: boolean;
}) {
  const id = useId();
  return (
    <div class={`field${className ? ` ${className}` : ''}`}>
      <label for={id}>
        {label}
        {required && <span class="required"> (required)</span>}
      </label>
      <input
        id={id}
        type={type}
        // Preact types text and search inputs apart unless the list attribute is named.
        list={undefined}
        value={value}
        required={required}
        placeholder={placeholder}
        autoComplete={autoComplete}
        inputMode={inputMode}
        spellcheck={spellcheck}
        aria-invalid={error === undefined ? undefined : true}
        aria-describedby={describedBy(id, hint, error)}
        onInput={(event) => {
          onValue(event.currentTarget.value);
        }}
      />
      <Extras id={id} hint={hint} error={error} />
    </div>
  );
}

export interface Choice<T extends string> {
  value: T;
  label: string;
}

export function SelectField<T extends string>({
  label,
  hint,
  error,
  value,
  onValue,
  choices,
  class: className,
}: FieldFrame & {
  value: T;
  onValue: (value: T) => void;
  choices: readonly Choice<T>[];
  class?: string;
}) {
  const id = useId();
  return (
    <div class={`field${className ? ` ${className}` : ''}`}>
      <label for={id}>{label}</label>
      <select
        id={id}
        value={value}
        aria-invalid={error === undefined ? undefined : true}
        aria-describedby={describedBy(id, hint, error)}
        onChange={(event) => {
          const selected = choices.find((choice) => choice.value === event.currentTarget.value);
          if (selected) onValue(selected.value);
        }}
      >
        {choices.map((choice) => (
          <option key={choice.value} value={choice.value}>
            {choice.label}
          </option>
        ))}
      </select>
      <Extras id={id} hint={hint} error={error} />
    </div>
  );
}

export function CheckboxField({
  label,
  hint,
  error,
  checked,
  onChecked,
}: FieldFrame & { checked: boolean; onChecked: (checked: boolean) => void }) {
  const id = useId();
  return (
    <div class="field field-check">
      <input
        id={id}
        type="checkbox"
        checked={checked}
        aria-describedby={describedBy(id, hint, error)}
        onChange={(event) => {
          onChecked(event.currentTarget.checked);
        }}
      />
      <div>
        <label for={id}>{label}</label>
        <Extras id={id} hint={hint} error={error} />
      </div>
    </div>
  );
}

export function RadioGroup<T extends string>({
  legend,
  hint,
  error,
  value,
  onValue,
  choices,
}: {
  legend: string;
  hint?: ComponentChildren;
  error?: string | undefined;
  value: T;
  onValue: (value: T) => void;
  choices: readonly (Choice<T> & { hint?: ComponentChildren; disabled?: boolean })[];
}) {
  const id = useId();
  return (
    <fieldset class="field radio-group" aria-describedby={describedBy(id, hint, error)}>
      <legend>{legend}</legend>
      {choices.map((choice) => (
        <div class="field-check" key={choice.value}>
          <input
            id={`${id}-${choice.value}`}
            type="radio"
            name={id}
            value={choice.value}
            checked={value === choice.value}
            disabled={choice.disabled}
            onChange={() => {
              onValue(choice.value);
            }}
          />
          <div>
            <label for={`${id}-${choice.value}`}>{choice.label}</label>
            {choice.hint !== undefined && <p class="field-hint">{choice.hint}</p>}
          </div>
        </div>
      ))}
      <Extras id={id} hint={hint} error={error} />
    </fieldset>
  );
}
