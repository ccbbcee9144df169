/**
 * A progress bar people and screen readers can follow: role=progressbar with the percentage in
 * aria-valuenow and the counts in aria-valuetext. Without an estimate it is indeterminate (no value).
 */
export function ProgressBar({
  label,
  fraction,
  valueText,
}: {
  label: string;
  fraction: number | null;
  valueText: string;
}) {
  const percent = fraction === null ? null : Math.round(Math.min(1, Math.max(0, fraction)) * 100);
  return (
    <div
      class={`progress${percent === null ? ' progress-indeterminate' : ''}`}
      role="progressbar"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={percent ?? undefined}
      aria-valuetext={valueText}
    >
      <div class="progress-fill" style={percent === null ? undefined : { width: `${percent}%` }} />
    </div>
  );
}
