// Sign-in: locally a picker of the demo users and the development token endpoint; in Azure MSAL.js against Entra ID.
// Which one is the host's choice (config.json, read at start).
import type { PublicClientApplication } from "@azure/msal-browser";

export interface DemoUser { email: string; name: string; role: string; company?: string | null }

export interface PortalConfig {
  mode: "dev" | "entra";
  apiBaseUrl: string;
  clientId?: string;
  authority?: string;
  scope?: string;
  demoUsers?: DemoUser[] | null;
}

const key = "prm.portal.session";

interface DevSession { email: string; accessToken: string; expiresAt: number }

let msal: PublicClientApplication | null = null;
let config: PortalConfig;

export async function loadConfig(): Promise<PortalConfig> {
  try {
    const response = await fetch("config.json", { cache: "no-store" });
    if (response.ok) config = await response.json();
  } catch { /* the defaults below */ }
  config ??= { mode: "dev", apiBaseUrl: "/api" };
  if (config.mode === "entra") {
    const { PublicClientApplication } = await import("@azure/msal-browser");
    msal = new PublicClientApplication({
      auth: { clientId: config.clientId!, authority: config.authority, redirectUri: document.baseURI },
      cache: { cacheLocation: "sessionStorage" },
    });
    await msal.initialize();
    const result = await msal.handleRedirectPromise();
    if (result?.account) msal.setActiveAccount(result.account);
    else if (!msal.getActiveAccount() && msal.getAllAccounts().length) msal.setActiveAccount(msal.getAllAccounts()[0]);
  }
  return config;
}

function devSession(): DevSession | null {
  try {
    const s = JSON.parse(sessionStorage.getItem(key) ?? "null") as DevSession | null;
    return s && s.expiresAt > Date.now() + 60_000 ? s : null;
  } catch {
    return null;
  }
}

/** The signed-in person's email, or null. */
export function signedInAs(): string | null {
  if (config.mode === "entra") return msal?.getActiveAccount()?.username ?? null;
  return devSession()?.email ?? null;
}

/** A token for the API, or null when nobody is signed in. */
export async function accessToken(): Promise<string | null> {
  if (config.mode === "entra") {
    const account = msal?.getActiveAccount();
    if (!msal || !account) return null;
    try {
      return (await msal.acquireTokenSilent({ scopes: [config.scope!], account })).accessToken;
    } catch {
      await msal.acquireTokenRedirect({ scopes: [config.scope!], account });
      return null;
    }
  }
  return devSession()?.accessToken ?? null;
}

/** Development sign-in: POST /api/dev/token (only the local host maps it, only in Development). */
export async function signInAsDemoUser(email: string): Promise<void> {
  const response = await fetch(`${config.apiBaseUrl}/dev/token`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email }),
  });
  if (!response.ok) throw new Error(`Sign-in as ${email} was refused (${response.status}).`);
  const body = await response.json() as { accessToken: string; expiresIn: number };
  sessionStorage.setItem(key, JSON.stringify({ email, accessToken: body.accessToken, expiresAt: Date.now() + body.expiresIn * 1000 }));
}

export async function signInWithEntra(): Promise<void> {
  await msal!.loginRedirect({ scopes: [config.scope!], redirectStartPage: location.href });
}

export async function signOut(): Promise<void> {
  sessionStorage.removeItem(key);
  if (config.mode === "entra" && msal) await msal.logoutRedirect({ postLogoutRedirectUri: document.baseURI });
}
