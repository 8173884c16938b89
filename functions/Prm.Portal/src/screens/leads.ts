// Leads: the inbox of offers and worked leads, accept, decline with a reason, convert to a deal registration.
import { useState } from "preact/hooks";
import { api, ok } from "../api/client";
import type { components } from "../api/schema";
import { navigate } from "../router";
import { Field, Loaded, ProblemBanner, Status, Title, date, dateTime, html, money, useForm, useLoad } from "../ui";
import { MoreButton, Timeline, usePaged } from "./deals";

type Lead = components["schemas"]["LeadDto"];

export function LeadList({ vendor }: { vendor?: boolean }) {
  const paged = usePaged(cursor => ok(api.GET("/leads", { params: { query: { cursor, limit: 20 } } })));
  return html`<section>
    <${Title}>Leads<//>
    <${Loaded} state=${paged.first}>${() => paged.items.length === 0 ? html`<p>No leads for you right now.</p>` : html`
      <table><caption class="visually-hidden">Leads</caption>
        <thead><tr><th scope="col">Lead</th><th scope="col">Value</th><th scope="col">Status</th><th scope="col">Accept by</th></tr></thead>
        <tbody>${paged.items.map(l => html`<tr>
          <td><a href=${(vendor ? "vendor/leads/" : "leads/") + l.id}>${leadName(l)}</a></td><td>${money(l.estimatedValue)}</td>
          <td><${Status} value=${l.status} /></td><td>${dateTime(l.acceptDeadline)}</td></tr>`)}</tbody>
      </table><${MoreButton} cursor=${paged.cursor} next=${paged.next} />`}<//>
  </section>`;
}

const leadName = (l: Lead) => l.masked ? `${l.company.industry ?? "A company"} in ${l.company.country ?? "?"} (${l.company.sizeBand ?? "size unknown"})` : l.company.name ?? l.id;

const declineReasons: [string, string][] = [["", "Choose a reason"], ["notMyTerritory", "Not my territory"], ["noCapacity", "No capacity"], ["notAFit", "Not a fit"], ["badData", "Bad data"], ["duplicate", "Duplicate"]];

export function LeadDetail({ id, vendor }: { id: string; vendor?: boolean }) {
  const lead = useLoad(() => ok(api.GET("/leads/{leadId}", { params: { path: { leadId: id } } })), [id]);
  const form = useForm();
  const [reason, setReason] = useState("");
  const [note, setNote] = useState("");
  const [convert, setConvert] = useState({ amount: "", currency: "EUR", expectedCloseDate: "" });
  const accept = form.submit(async () => { await ok(api.POST("/leads/{leadId}/accept", { params: { path: { leadId: id } } })); lead.reload(); });
  const decline = form.submit(async () => {
    await ok(api.POST("/leads/{leadId}/decline", { params: { path: { leadId: id } }, body: { reason: reason || null, note: note || null } }));
    navigate("leads");
  });
  const toDeal = form.submit(async () => {
    const deal = await ok(api.POST("/leads/{leadId}/convert", {
      params: { path: { leadId: id }, header: { "Idempotency-Key": `lead:${id}` } },
      body: { estimatedValue: convert.amount ? { amount: Number(convert.amount), currency: convert.currency } : null, expectedCloseDate: convert.expectedCloseDate || null },
    })) as { id?: string };
    if (deal?.id) navigate("deals/" + deal.id); else lead.reload();
  });
  return html`<${Loaded} state=${lead}>${(l: Lead) => html`<section>
    <${Title}>${leadName(l)}<//>
    <p><${Status} value=${l.status} />${l.acceptDeadline && l.status === "Offered" ? html` · accept by <time datetime=${l.acceptDeadline}>${dateTime(l.acceptDeadline)}</time>` : ""}</p>
    <dl class="details">
      <dt>Value</dt><dd>${money(l.estimatedValue)}</dd><dt>Grade</dt><dd>${l.grade ?? "—"}</dd>
      <dt>Product lines</dt><dd>${l.productLines.join(", ") || "—"}</dd>
      <dt>Region</dt><dd>${l.company.region ?? "—"}, ${l.company.country ?? "—"}</dd>
      ${!l.masked && html`<dt>Company</dt><dd>${l.company.name} (${l.company.domain})</dd>
        <dt>Contact</dt><dd>${l.contact ? `${l.contact.name} · ${l.contact.email ?? ""}` : "—"}</dd><dt>Notes</dt><dd>${l.notes ?? "—"}</dd>`}
      ${l.convertBy && html`<dt>Convert by</dt><dd>${date(l.convertBy)}</dd>`}
      ${l.dealId && html`<dt>Registration</dt><dd><a href=${"deals/" + l.dealId}>Open the deal</a></dd>`}
    </dl>
    <${ProblemBanner} problem=${form.problem} fields=${["reason", "note", "estimatedValue", "expectedCloseDate"]} />
    ${!vendor && l.masked && html`<div class="actions">
      <button type="button" onClick=${accept} disabled=${form.busy}>Accept the lead</button>
      <form onSubmit=${decline} class="inline-form">
        <${Field} label="Reason to decline" name="reason" value=${reason} onInput=${setReason} options=${declineReasons} problem=${form.problem} />
        <${Field} label="Note" name="note" value=${note} onInput=${setNote} problem=${form.problem} />
        <button type="submit" class="secondary" disabled=${form.busy}>Decline</button>
      </form></div>`}
    ${!vendor && !l.masked && !l.dealId && ["Accepted", "Contacted", "Qualified"].includes(l.status) && html`<form onSubmit=${toDeal} class="inline-form">
      <h2>Convert to a deal registration</h2>
      <${Field} label="Estimated value" name="estimatedValue" type="number" min="0" value=${convert.amount} onInput=${(x: string) => setConvert(c => ({ ...c, amount: x }))} problem=${form.problem} hint="Empty: the lead's value" />
      <${Field} label="Expected close date" name="expectedCloseDate" type="date" value=${convert.expectedCloseDate} onInput=${(x: string) => setConvert(c => ({ ...c, expectedCloseDate: x }))} problem=${form.problem} />
      <button type="submit" disabled=${form.busy}>Convert</button></form>`}
    <${Timeline} path=${`/leads/${l.id}/timeline`} version=${l.updatedAt} />
  </section>`}<//>`;
}
