import { useId } from 'preact/hooks';

/** An input inside a table cell: the column header is visible, so the label is for assistive technology. */
export function CellInput({
  label,
  value,
  error,
  onValue,
  inputMode,
  list,
}: {
  label: string;
  value: string;
  error?: string | undefined;
  onValue: (value: string) => void;
  inputMode?: 'numeric' | 'text';
  list?: string;
}) {
  const errorId = `${useId()}-error`;
  return (
    <>
      <input
        type="text"
        aria-label={label}
        value={value}
        inputMode={inputMode}
        list={list}
        spellcheck={false}
        autoComplete="off"
        aria-invalid={error === undefined ? undefined : true}
        aria-describedby={error === undefined ? undefined : errorId}
        onInput={(event) => {
          onValue(event.currentTarget.value);
        }}
      />
      {error !== undefined && (
        <p class="field-error" id={errorId}>
          {error}
        </p>
      )}
    </>
  );
}
