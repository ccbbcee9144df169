import { formatNumber } from '../lib/format.js';

/** Previous and next for a server-paged table; says which rows are shown, out of how many. */
export function Pager({
  label,
  total,
  top,
  skip,
  onSkip,
}: {
  label: string;
  total: number;
  top: number;
  skip: number;
  onSkip: (skip: number) => void;
}) {
  const pages = Math.max(1, Math.ceil(total / top));
  const page = Math.floor(skip / top) + 1;
  const first = total === 0 ? 0 : skip + 1;
  const last = Math.min(skip + top, total);
  return (
    <nav class="pager" aria-label={`${label} pages`}>
      <span class="pager-range">
        {total === 0 ? 'No rows' : `${formatNumber(first)}–${formatNumber(last)} of ${formatNumber(total)}`}
      </span>
      <button
        type="button"
        class="button"
        disabled={skip === 0}
        onClick={() => {
          onSkip(0);
        }}
      >
        First
      </button>
      <button
        type="button"
        class="button"
        disabled={skip === 0}
        onClick={() => {
          onSkip(Math.max(0, skip - top));
        }}
      >
        Previous
      </button>
      <span class="pager-page">
        Page {formatNumber(page)} of {formatNumber(pages)}
      </span>
      <button
        type="button"
        class="button"
        disabled={skip + top >= total}
        onClick={() => {
          onSkip(skip + top);
        }}
      >
        Next
      </button>
    </nav>
  );
}
