/**
 * The dashboard's sign-in: the API token lives in this tab's sessionStorage only. A sign-in link
 * carries it in the URL fragment (`…#token=frt_…`), which browsers never send to the server; the
 * page takes it and removes it from the address bar (and from history) before anything else runs.
 */
const KEY = 'flowrun.token';

/** Takes a token from the address bar's fragment, if one is there, and keeps it for this tab. */
export function adoptTokenFromFragment(): void {
  const hash = window.location.hash.replace(/^#/, '');
  if (!hash) return;
  const params = new URLSearchParams(hash);
  const token = params.get('token');
  if (token === null) return;
  params.delete('token');
  const rest = params.toString();
  const url = window.location.pathname + window.location.search + (rest ? `#${rest}` : '');
  // replaceState: the address with the token must not stay in history for the back button.
  window.history.replaceState(window.history.state, '', url);
  if (isTokenShaped(token)) storeToken(token);
}

/** The token this tab signed in with, or null. */
export function storedToken(): string | null {
  try {
    return window.sessionStorage.getItem(KEY);
  } catch {
    return null;
  }
}

/** Keeps `token` for this tab. */
export function storeToken(token: string): void {
  window.sessionStorage.setItem(KEY, token.trim());
}

/** Forgets the token (sign out). */
export function forgetToken(): void {
  window.sessionStorage.removeItem(KEY);
}

/** True for a string the client would send as a bearer token (non-empty, no spaces). */
export function isTokenShaped(token: string): boolean {
  return token.trim() !== '' && !/\s/.test(token.trim());
}
