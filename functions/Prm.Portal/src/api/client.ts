// The API client: openapi-fetch over the generated types (schema.ts, `npm run generate`), with the signed-in user's token.
import createClient, { type Middleware } from "openapi-fetch";
import type { paths } from "./schema";

/** An RFC 9457 problem response as the API sends it: `errors` maps a field (e.g. `customer.domain`) to its messages. */
export interface Problem {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  errors?: Record<string, string[]>;
}

let token: (() => Promise<string | null>) | null = null;
let base = "/api";

/** Sets where the API is and how to get the caller's token (called once at start, and on sign-in). */
export function configureApi(apiBaseUrl: string, getToken: () => Promise<string | null>) {
  base = apiBaseUrl.replace(/\/$/, "");
  token = getToken;
  api = createClient<paths>({ baseUrl: base });
  api.use(auth);
}

const auth: Middleware = {
  async onRequest({ request }) {
    const t = token ? await token() : null;
    if (t) request.headers.set("Authorization", `Bearer ${t}`);
    return request;
  },
};

export let api = createClient<paths>({ baseUrl: base });

/** The API's absolute URL of a path (for downloads the browser fetches itself). */
export const apiUrl = (path: string) => `${base}${path.startsWith("/") ? path : "/" + path}`;

/** The caller's token for a raw fetch (downloads follow a redirect to storage). */
export const bearer = async () => (token ? await token() : null);

/** Turns whatever an error body is into a problem a screen can show: never raw JSON, never a stack trace. */
export function asProblem(error: unknown, response?: Response): Problem {
  if (error && typeof error === "object" && ("title" in error || "errors" in error || "detail" in error)) {
    const p = error as Problem;
    return { status: p.status ?? response?.status, title: p.title ?? "The request was not accepted.", detail: typeof p.detail === "string" ? p.detail : undefined, errors: p.errors };
  }
  const status = response?.status;
  return {
    status,
    title: status === 404 ? "Not found, or not yours to see." : status === 403 ? "You may not do this." : status && status >= 500 ? "Something went wrong on our side. Try again in a moment." : "The request did not succeed.",
  };
}

/** Unwraps an openapi-fetch result: the data, or throws the problem (screens catch it and show it). */
export async function ok<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  let result;
  try {
    result = await call;
  } catch {
    throw new ApiError({ title: "The service cannot be reached. Check your connection and try again." });
  }
  if (result.error !== undefined || !result.response.ok) throw new ApiError(asProblem(result.error, result.response));
  return result.data as T;
}

export class ApiError extends Error {
  constructor(public readonly problem: Problem) {
    super(problem.title ?? "Request failed");
  }
}

/** The problem of a caught error (any error becomes a readable one). */
export const problemOf = (e: unknown): Problem => (e instanceof ApiError ? e.problem : { title: "Something went wrong. Try again." });
