// A tiny router on the History API: paths are relative to the app's base (<base href>: /portal/ locally, / on the Static Web App).
import { useEffect, useState } from "preact/hooks";

export const basePath = new URL(document.baseURI).pathname.replace(/\/?$/, "/");

/** The current route: the path under the base, without leading slash (e.g. `deals/dr_1`). */
export function currentRoute(): string {
  const p = decodeURI(location.pathname);
  return p.startsWith(basePath) ? p.slice(basePath.length).replace(/\/$/, "") : p.replace(/^\//, "");
}

export const href = (route: string) => basePath + route.replace(/^\//, "");

const listeners = new Set<() => void>();

export function navigate(route: string, replace = false) {
  const url = route.startsWith(basePath) ? route : href(route);
  if (replace) history.replaceState(null, "", url);
  else history.pushState(null, "", url);
  listeners.forEach(l => l());
  window.scrollTo(0, 0);
}

window.addEventListener("popstate", () => listeners.forEach(l => l()));

// Links inside the app route in the browser; downloads, new tabs and other sites are left to the browser.
document.addEventListener("click", e => {
  const a = (e.target as Element | null)?.closest?.("a");
  if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || a.target || a.hasAttribute("download")) return;
  const url = new URL(a.href, document.baseURI);
  if (url.origin !== location.origin || !url.pathname.startsWith(basePath)) return;
  e.preventDefault();
  navigate(url.pathname + url.search);
});

/** Re-renders on navigation; returns the route and the query. */
export function useRoute(): { route: string; query: URLSearchParams } {
  const [, set] = useState(0);
  useEffect(() => {
    const l = () => set(n => n + 1);
    listeners.add(l);
    return () => { listeners.delete(l); };
  }, []);
  return { route: currentRoute(), query: new URLSearchParams(location.search) };
}

/** Matches `deals/:id` against a route; the named parts, or null. */
export function match(pattern: string, route: string): Record<string, string> | null {
  const p = pattern.split("/"), r = route.split("/");
  if (p.length !== r.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < p.length; i++) {
    if (p[i].startsWith(":")) params[p[i].slice(1)] = r[i];
    else if (p[i] !== r[i]) return null;
  }
  return params;
}
