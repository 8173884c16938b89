// Deals: the list (cursor paging), registration with the conflict result as it comes back, the detail with its timeline.
import { useState } from "preact/hooks";
import { api, ok } from "../api/client";
import type { components } from "../api/schema";
import { navigate } from "../router";
import { Field, Loaded, ProblemBanner, Status, Title, date, dateTime, html, money, useForm, useLoad } from "../ui";

type Deal = components["schemas"]["DealDto"];
type Conflict = components["schemas"]["DealConflictDto"];

/** Pages through a cursor list: the items so far and a "More" that fetches the next page. */
export function usePaged<T>(load: (cursor?: string) => Promise<{ items: T[]; nextCursor: string | null }>, deps: unknown[] = []) {
  const [more, setMore] = useState<{ items: T[]; cursor: string | null } | null>(null);
  const first = useLoad(async () => { setMore(null); return load(); }, deps);
  const items = [...(first.data?.items ?? []), ...(more?.items ?? [])];
  const cursor = more ? more.cursor : first.data?.nextCursor ?? null;
  const next = async () => {
    if (!cursor) return;
    const page = await load(cursor);
    setMore({ items: [...(more?.items ?? []), ...page.items], cursor: page.nextCursor });
  };
  return { first, items, cursor, next };
}

export function MoreButton({ cursor, next }: { cursor: string | null; next: () => Promise<void> }) {
  return cursor ? html`<p><button type="button" class="secondary" onClick=${next}>More</button></p>` : null;
}

export function DealList({ vendor }: { vendor?: boolean }) {
  const [status, setStatus] = useState("");
  const paged = usePaged(cursor => ok(api.GET("/deals", { params: { query: { cursor, limit: 20, status: status || undefined } } })), [status]);
  return html`<section>
    <${Title}>Deal registrations<//>
    <div class="toolbar">
      ${!vendor && html`<a class="button" href="deals/new">Register a deal</a>`}
      <${Field} label="Status" name="status" value=${status} onInput=${setStatus}
        options=${[["", "All"], ["UnderReview", "Under review"], ["Approved", "Approved"], ["Returned", "Returned"], ["Rejected", "Rejected"], ["Draft", "Draft"], ["Won", "Won"], ["Lost", "Lost"]]} />
    </div>
    <${Loaded} state=${paged.first}>${() => paged.items.length === 0 ? html`<p>No registrations yet.</p>` : html`
      <table>
        <caption class="visually-hidden">Deal registrations</caption>
        <thead><tr><th scope="col">Number</th><th scope="col">Customer</th><th scope="col">Value</th><th scope="col">Status</th><th scope="col">Submitted</th></tr></thead>
        <tbody>${paged.items.map(d => html`<tr>
          <td><a href=${(vendor ? "vendor/deals/" : "deals/") + d.id}>${d.registrationNumber}</a></td>
          <td>${d.customer.companyName}${vendor ? html`<br /><small>${d.partnerName}</small>` : ""}</td>
          <td>${money(d.estimatedValue)}</td><td><${Status} value=${d.status} /></td><td>${date(d.submittedAt)}</td></tr>`)}
        </tbody></table>
      <${MoreButton} cursor=${paged.cursor} next=${paged.next} />`}<//>
  </section>`;
}

export function ConflictResult({ conflict }: { conflict: Conflict }) {
  const level = conflict.level.toLowerCase();
  return html`<div class=${"conflict conflict-" + level} role="status" aria-live="polite">
    <h2>Conflict check: ${conflict.level}</h2>
    <p>Score ${conflict.score}${conflict.houseAccount ? " · a house account of the vendor" : ""}${conflict.claimHeld ? " · this registration holds the customer" : ""}</p>
    ${conflict.evidence.length > 0 && html`<ul>${conflict.evidence.map(e => html`<li>${e}</li>`)}</ul>`}
  </div>`;
}

const fields = ["customer", "products", "estimatedValue", "expectedCloseDate", "notes"];

export function RegisterDeal() {
  const lines = useLoad(() => ok(api.GET("/product-lines")));
  const form = useForm();
  const [v, setV] = useState({ companyName: "", domain: "", country: "", contactName: "", contactEmail: "", product: "", amount: "", currency: "EUR", expectedCloseDate: "", notes: "" });
  const [result, setResult] = useState<Deal | null>(null);
  const set = (k: keyof typeof v) => (value: string) => setV(s => ({ ...s, [k]: value }));
  const send = form.submit(async () => {
    const deal = await ok(api.POST("/deals", {
      body: {
        customer: { companyName: v.companyName, domain: v.domain, country: v.country, contactName: v.contactName || null, contactEmail: v.contactEmail || null },
        products: v.product ? [v.product] : [],
        estimatedValue: { amount: v.amount === "" ? null : Number(v.amount), currency: v.currency },
        expectedCloseDate: v.expectedCloseDate || null,
        notes: v.notes || null,
      },
      headers: { "Idempotency-Key": crypto.randomUUID() },
    }));
    setResult(deal as Deal);
  });
  if (result) return html`<section>
    <${Title}>Registration ${result.registrationNumber}<//>
    <p>${result.customer.companyName}: <${Status} value=${result.status} /></p>
    <${ConflictResult} conflict=${result.conflict} />
    <p><a href=${"deals/" + result.id}>Open the registration</a> · <a href="">Home</a> · <a href="deals">All registrations</a></p>
  </section>`;
  const productOptions: [string, string][] = [["", "Choose a product line"], ...(lines.data?.items ?? []).filter(l => l.active).map(l => [l.id, l.name] as [string, string])];
  return html`<section>
    <${Title}>Register a deal<//>
    <form onSubmit=${send} novalidate>
      <${ProblemBanner} problem=${form.problem} fields=${fields} />
      <fieldset><legend>Customer</legend>
        <${Field} label="Company name" name="customer.companyName" value=${v.companyName} onInput=${set("companyName")} problem=${form.problem} required />
        <${Field} label="Web domain" name="customer.domain" value=${v.domain} onInput=${set("domain")} problem=${form.problem} required hint="e.g. contoso.com" />
        <${Field} label="Country (ISO code)" name="customer.country" value=${v.country} onInput=${set("country")} problem=${form.problem} required hint="Two letters, e.g. DE" />
        <${Field} label="Contact name" name="customer.contactName" value=${v.contactName} onInput=${set("contactName")} problem=${form.problem} />
        <${Field} label="Contact email" name="customer.contactEmail" type="email" value=${v.contactEmail} onInput=${set("contactEmail")} problem=${form.problem} />
      </fieldset>
      <${Field} label="Product line" name="products" value=${v.product} onInput=${set("product")} problem=${form.problem} options=${productOptions} required />
      <div class="row">
        <${Field} label="Estimated value" name="estimatedValue" type="number" min="0" step="0.01" value=${v.amount} onInput=${set("amount")} problem=${form.problem} required />
        <${Field} label="Currency" name="estimatedValue.currency" value=${v.currency} onInput=${set("currency")} problem=${form.problem} options=${[["EUR", "EUR"], ["USD", "USD"], ["GBP", "GBP"]]} />
      </div>
      <${Field} label="Expected close date" name="expectedCloseDate" type="date" value=${v.expectedCloseDate} onInput=${set("expectedCloseDate")} problem=${form.problem} required />
      <${Field} label="Notes" name="notes" multiline value=${v.notes} onInput=${set("notes")} problem=${form.problem} />
      <button type="submit" disabled=${form.busy}>${form.busy ? "Registering…" : "Register"}</button>
    </form>
  </section>`;
}

/** A record's timeline (audit entries, newest first); `version` (e.g. the record's updatedAt) reloads it after a change. */
export function Timeline({ path, version }: { path: string; version?: string }) {
  const entries = useLoad(() => ok(api.GET(path as "/deals/{dealId}/timeline", { params: { path: { dealId: "" } } } as never)), [path, version]);
  return html`<section aria-labelledby="timeline"><h2 id="timeline">Timeline</h2>
    <${Loaded} state=${entries}>${(d: { items: components["schemas"]["AuditEntry"][] }) => html`<ol class="timeline">
      ${d.items.map(e => html`<li><time datetime=${e.at}>${dateTime(e.at)}</time> <strong>${e.action}</strong> by ${e.actorName}${e.note ? ": " + e.note : ""}</li>`)}
    </ol>`}<//></section>`;
}

export function DealDetail({ id, vendor }: { id: string; vendor?: boolean }) {
  const deal = useLoad(() => ok(api.GET("/deals/{dealId}", { params: { path: { dealId: id } } })), [id]);
  const [decided, setDecided] = useState(false);
  return html`<${Loaded} state=${deal}>${(d: Deal) => html`<section>
    <${Title}>${`Registration ${d.registrationNumber}`}<//>
    <p><${Status} value=${d.status} /> · ${d.partnerName} · submitted by ${d.submittedByName} ${date(d.submittedAt)}</p>
    <dl class="details">
      <dt>Customer</dt><dd>${d.customer.companyName} (${d.customer.domain}, ${d.customer.country})</dd>
      <dt>Products</dt><dd>${d.products.join(", ")}</dd>
      <dt>Estimated value</dt><dd>${money(d.estimatedValue)}</dd>
      <dt>Expected close</dt><dd>${date(d.expectedCloseDate)}</dd>
      <dt>Protected until</dt><dd>${date(d.protectedUntil)}</dd>
      ${d.decisions.length > 0 && html`<dt>Decisions</dt><dd><ul class="plain">${d.decisions.map(x => html`<li>${x.decision} by ${x.decidedByName} ${dateTime(x.decidedAt)}${x.reason ? ": " + x.reason : ""}</li>`)}</ul></dd>`}
    </dl>
    <${ConflictResult} conflict=${d.conflict} />
    ${vendor && (d.status === "UnderReview" || decided) && html`<${Decision} subject="deal" path=${`/deals/${d.id}/decision`} choices=${[["approve", "Approve"], ["reject", "Reject"], ["return", "Return"]]} onDone=${() => { setDecided(true); deal.reload(); }} />`}
    <${Timeline} path=${`/deals/${d.id}/timeline`} version=${d.updatedAt} />
  </section>`}<//>`;
}

/** A reviewer's decision: approve, reject, return (or request information) with a reason. */
export function Decision({ subject, path, choices, onDone, extra }: { subject: string; path: string; choices: [string, string][]; onDone: () => void; extra?: Record<string, unknown> }) {
  const form = useForm();
  const [reason, setReason] = useState("");
  const [done, setDone] = useState<string | null>(null);
  const decide = (decision: string) => form.submit(async () => {
    await ok(api.POST(path as "/deals/{dealId}/decision", { params: { path: { dealId: "" } }, body: { decision, reason: reason || null, ...extra } } as never));
    setDone(decision);
    onDone();
  });
  if (done) return html`<p class="done" role="status">Decision recorded: ${done}.</p>`;
  return html`<form class="decision" onSubmit=${(e: Event) => e.preventDefault()}>
    <h2>Your decision on this ${subject}</h2>
    <${ProblemBanner} problem=${form.problem} fields=${["reason"]} />
    <${Field} label="Reason" name="reason" multiline value=${reason} onInput=${setReason} problem=${form.problem} hint="Required to reject or return; the partner sees it." />
    <div class="buttons">${choices.map(([value, label]) => html`<button type="button" class=${value === "approve" ? "" : "secondary"} disabled=${form.busy} onClick=${decide(value)}>${label}</button>`)}</div>
  </form>`;
}

export const openDeal = (id: string) => navigate("deals/" + id);
