import { Fragment } from 'preact';

/**
 * Text that may wrap after "@", "." and "_" (e-mail addresses, user names, ids) rather than at any
 * letter, so a narrow column shows "ann.lee@" / "contoso.com" instead of "ann.lee@conto" / "so.com".
 */
export function Breakable({ text }: { text: string }) {
  const parts = text.split(/(?<=[@._#])/);
  return (
    <>
      {parts.map((part, index) => (
        <Fragment key={index}>
          {index > 0 && <wbr />}
          {part}
        </Fragment>
      ))}
    </>
  );
}
