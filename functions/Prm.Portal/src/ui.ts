// Shared pieces of the screens: the template tag, loading, forms whose problems show next to their fields, money and dates.
import { h, type ComponentChildren } from "preact";
import { useCallback, useEffect, useState } from "preact/hooks";
import htm from "htm";
import { problemOf, type Problem } from "./api/client";

export const html = htm.bind(h);

/** Loads once per change of `deps`; `reload` loads again. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[] = []) {
  const [state, setState] = useState<{ data?: T; problem?: Problem; loading: boolean }>({ loading: true });
  const run = useCallback(() => {
    let live = true;
    setState(s => ({ ...s, loading: true }));
    load().then(data => live && setState({ data, loading: false }), e => live && setState({ problem: problemOf(e), loading: false }));
    return () => { live = false; };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps);
  useEffect(run, [run]);
  return { ...state, reload: run };
}

/** A form's state: busy while it sends, the problem the API answered (field errors shown by each Field). */
export function useForm() {
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<Problem | undefined>();
  const submit = (action: () => Promise<void>) => async (e?: Event) => {
    e?.preventDefault();
    setBusy(true);
    setProblem(undefined);
    try {
      await action();
    } catch (err) {
      setProblem(problemOf(err));
    } finally {
      setBusy(false);
    }
  };
  return { busy, problem, submit, setProblem };
}

/** The messages of a field (`customer.domain`), also when the API named a deeper one (`estimatedValue.amount` for `estimatedValue`). */
export function fieldErrors(problem: Problem | undefined, name: string): string[] {
  if (!problem?.errors) return [];
  const lower = name.toLowerCase();
  return Object.entries(problem.errors)
    .filter(([k]) => k.toLowerCase() === lower || k.toLowerCase().startsWith(lower + ".") || k.toLowerCase().startsWith(lower + "["))
    .flatMap(([, v]) => v);
}

const id = (name: string) => "f-" + name.replace(/[^A-Za-z0-9_-]/g, "-");

interface FieldProps {
  label: string;
  name: string;
  problem?: Problem;
  type?: string;
  value?: string;
  required?: boolean;
  hint?: string;
  options?: [string, string][];
  multiline?: boolean;
  onInput?: (value: string) => void;
  [more: string]: unknown;
}

/** A labelled control with its hint and the API's messages for it (aria-invalid, aria-describedby). */
export function Field({ label, name, problem, type = "text", value, required, hint, options, multiline, onInput, ...rest }: FieldProps) {
  const errors = fieldErrors(problem, name);
  const fid = id(name);
  const described = [hint ? fid + "-hint" : "", errors.length ? fid + "-error" : ""].filter(Boolean).join(" ") || undefined;
  const common = {
    id: fid, name, required, "aria-invalid": errors.length ? "true" : undefined, "aria-describedby": described,
    onInput: (e: Event) => onInput?.((e.target as HTMLInputElement).value), ...rest,
  };
  const control = options
    ? html`<select ...${common} value=${value}>${options.map(([v, t]) => html`<option value=${v}>${t}</option>`)}</select>`
    : multiline ? html`<textarea ...${common} value=${value} rows="3"></textarea>`
      : html`<input ...${common} type=${type} value=${value} />`;
  return html`<div class=${"field" + (errors.length ? " invalid" : "")}>
    <label for=${fid}>${label}${required ? html`<span aria-hidden="true"> *</span>` : ""}</label>
    ${control}
    ${hint && html`<p class="hint" id=${fid + "-hint"}>${hint}</p>`}
    ${errors.length > 0 && html`<p class="error" id=${fid + "-error"} role="alert">${errors.join(" ")}</p>`}
  </div>`;
}

/** The problem of a request as a readable message; field errors not shown by a field are listed (never raw JSON). */
export function ProblemBanner({ problem, fields = [] }: { problem?: Problem; fields?: string[] }) {
  if (!problem) return null;
  const shown = (k: string) => fields.some(f => k.toLowerCase() === f.toLowerCase() || k.toLowerCase().startsWith(f.toLowerCase() + ".") || k.toLowerCase().startsWith(f.toLowerCase() + "["));
  const others = Object.entries(problem.errors ?? {}).filter(([k]) => !shown(k));
  return html`<div class="problem" role="alert">
    <p><strong>${problem.title ?? "The request was not accepted."}</strong>${problem.detail && !problem.errors ? " " + problem.detail : ""}</p>
    ${fields.length > 0 && Object.keys(problem.errors ?? {}).length > others.length && html`<p>See the messages next to the fields.</p>`}
    ${others.length > 0 && html`<ul>${others.map(([k, v]) => html`<li>${k}: ${v.join(" ")}</li>`)}</ul>`}
  </div>`;
}

/** Shows loading, a problem, or the loaded content. */
export function Loaded<T>({ state, children }: { state: { data?: T; problem?: Problem; loading: boolean }; children: (data: T) => ComponentChildren }) {
  if (state.problem) return html`<${ProblemBanner} problem=${state.problem} />`;
  if (state.data === undefined) return html`<p class="loading" role="status">Loading…</p>`;
  return html`${children(state.data)}`;
}

export interface MoneyLike { amount: number; currency: string }

export const money = (m?: MoneyLike | null) =>
  m ? new Intl.NumberFormat(undefined, { style: "currency", currency: m.currency || "EUR", maximumFractionDigits: 2 }).format(m.amount) : "—";

export const moneyList = (list?: MoneyLike[] | null) => (list && list.length ? list.map(money).join(", ") : money({ amount: 0, currency: "EUR" }));

export const date = (d?: string | null) => (d ? new Date(d).toLocaleDateString(undefined, { year: "numeric", month: "short", day: "numeric" }) : "—");

export const dateTime = (d?: string | null) => (d ? new Date(d).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" }) : "—");

const words = (k: string) => k.replace(/([a-z])([A-Z])/g, "$1 $2").replace(/^./, c => c.toUpperCase());

/** Any record as a readable list (for screens that only show what the API answers). */
export function Details({ value }: { value: unknown }): ComponentChildren {
  if (value === null || value === undefined || value === "") return "—";
  if (Array.isArray(value)) return value.length ? html`<ul class="plain">${value.map(v => html`<li><${Details} value=${v} /></li>`)}</ul>` : "none";
  if (typeof value === "object") {
    const o = value as Record<string, unknown>;
    if (typeof o.amount === "number" && typeof o.currency === "string" && Object.keys(o).length === 2) return money(o as unknown as MoneyLike);
    return html`<dl class="details">${Object.entries(o).map(([k, v]) => html`<dt>${words(k)}</dt><dd><${Details} value=${v} /></dd>`)}</dl>`;
  }
  if (typeof value === "string" && /^\d{4}-\d{2}-\d{2}T/.test(value)) return dateTime(value);
  return String(value);
}

/** A page's title (also the document's). */
export function Title({ children }: { children: string }) {
  useEffect(() => { document.title = `${children} · ${document.title.split(" · ").pop()}`; }, [children]);
  return html`<h1 tabindex="-1">${children}</h1>`;
}

export const Status = ({ value }: { value: string }) => html`<span class=${"status status-" + value.toLowerCase()}>${words(value)}</span>`;
