import { escapeHtml, type SimResponse } from './http-types.js';

/**
 * The HTML a person sees at the simulated sign-in: an account picker (one button per sign-in user, a
 * plain form POST, no script), the page that posts a response for response_mode=form_post, and the
 * signed-out page. Small and accessible: a language, a title, one heading, labelled buttons.
 */

export interface AccountChoice {
  readonly objectId: string;
  readonly displayName: string;
  readonly userPrincipalName: string;
  readonly tenantName: string;
}

export interface SignInPageModel {
  readonly action: string;
  readonly requestId: string;
  readonly appName: string;
  readonly accounts: readonly AccountChoice[];
}

const STYLE =
  'body{font-family:system-ui,sans-serif;margin:0;background:#f2f2f2;color:#1b1b1b}' +
  'main{max-width:26rem;margin:3rem auto;background:#fff;padding:2rem;border-radius:4px}' +
  'h1{font-size:1.5rem;margin-top:0}ul{list-style:none;padding:0}li{margin:.5rem 0}' +
  'button{width:100%;text-align:left;padding:.75rem;font:inherit;border:1px solid #8a8886;background:#fff;cursor:pointer}' +
  'button:hover,button:focus{background:#f3f2f1}button:focus{outline:2px solid #0067b8}' +
  '.upn{display:block;color:#505050;font-size:.875rem}.cancel{width:auto;margin-top:1rem}';

function page(title: string, body: string, status = 200): SimResponse {
  return {
    status,
    headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' },
    body:
      `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">` +
      `<meta name="viewport" content="width=device-width, initial-scale=1">` +
      `<title>${escapeHtml(title)}</title><style>${STYLE}</style></head><body><main>${body}</main></body></html>`,
  };
}

export function signInPage(model: SignInPageModel): SimResponse {
  const accounts = model.accounts
    .map(
      (a) =>
        `<li><button type="submit" name="user" value="${escapeHtml(a.objectId)}">` +
        `${escapeHtml(a.displayName)}<span class="upn">${escapeHtml(a.userPrincipalName)}</span></button></li>`,
    )
    .join('');
  const list =
    model.accounts.length > 0
      ? `<ul aria-label="Accounts">${accounts}</ul>`
      : '<p role="alert">No one can sign in here: the simulated tenant has no sign-in users.</p>';
  return page(
    'Sign in to your account',
    `<h1>Pick an account</h1>` +
      `<p>to continue to ${escapeHtml(model.appName)}. Simulated Microsoft Entra ID: no password is asked.</p>` +
      `<form method="post" action="${escapeHtml(model.action)}">` +
      `<input type="hidden" name="request" value="${escapeHtml(model.requestId)}">${list}` +
      `<button type="submit" class="cancel" name="cancel" value="1">Cancel</button></form>`,
  );
}

/** response_mode=form_post: the response parameters posted to the redirect URI by the browser. */
export function formPostPage(redirectUri: string, params: Record<string, string>): SimResponse {
  const inputs = Object.entries(params)
    .map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`)
    .join('');
  const response = page(
    'Working...',
    `<h1>Signing you in</h1><form method="post" action="${escapeHtml(redirectUri)}">${inputs}` +
      `<noscript><p>Script is off: continue by hand.</p></noscript><button type="submit">Continue</button></form>`,
  );
  // The one place a script runs: form_post is defined as the browser posting the form at once.
  return {
    ...response,
    body: (response.body ?? '').replace('<body>', '<body onload="document.forms[0].submit()">'),
  };
}

export function signedOutPage(): SimResponse {
  return page(
    'Sign out',
    '<h1>You signed out of your account</h1><p>It’s a good idea to close all browser windows.</p>',
  );
}

export function messagePage(title: string, text: string, status: number): SimResponse {
  return page(title, `<h1>${escapeHtml(title)}</h1><p role="alert">${escapeHtml(text)}</p>`, status);
}
