import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';

let firstHeading = true;

/**
 * The screen's h1. After a navigation it takes focus, so that keyboard and screen-reader users start
 * at the new screen's top instead of at the link they left; the first page load keeps the browser's
 * own starting point. It also names the browser tab.
 */
export function PageHeading({ title, children }: { title: string; children?: ComponentChildren }) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${title} · EntraSync`;
    if (firstHeading) firstHeading = false;
    else heading.current?.focus();
  }, [title]);
  return (
    <h1 ref={heading} tabIndex={-1}>
      {children ?? title}
    </h1>
  );
}
