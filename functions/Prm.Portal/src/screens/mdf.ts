// MDF: the budgets, requests, a new request, and a claim with proof uploaded straight to storage through its SAS URL.
import { useState } from "preact/hooks";
import { api, ok, ApiError } from "../api/client";
import type { components } from "../api/schema";
import { navigate } from "../router";
import { Field, Loaded, ProblemBanner, Status, Title, date, html, money, useForm, useLoad } from "../ui";
import { Decision, MoreButton, Timeline, usePaged } from "./deals";

type Request = components["schemas"]["FundRequestDto"];
type Claim = components["schemas"]["ClaimDto"];

export function MdfHome({ vendor }: { vendor?: boolean }) {
  // Budgets are a partner's: vendor staff open them per partner (not in this portal); they see the requests.
  const budgets = useLoad(async () => (vendor ? { items: [] } : ok(api.GET("/mdf/budgets"))));
  const paged = usePaged(cursor => ok(api.GET("/mdf/requests", { params: { query: { cursor, limit: 20 } } })));
  return html`<section>
    <${Title}>Marketing development funds<//>
    ${!vendor && html`<h2>Budgets</h2>`}
    ${!vendor && html`<${Loaded} state=${budgets}>${(b: components["schemas"]["ListResponseOfBudgetDto"]) => b.items.length === 0 ? html`<p>No budget yet.</p>` : html`
      <table><caption class="visually-hidden">Budgets</caption><thead><tr><th scope="col">Period</th><th scope="col">Allocated</th><th scope="col">Available</th><th scope="col">Pending</th><th scope="col">Approved</th><th scope="col">Paid</th></tr></thead>
      <tbody>${b.items.map(x => html`<tr><td>${x.period}</td><td>${money(x.allocated)}</td><td>${money(x.available)}</td><td>${money(x.pending)}</td><td>${money(x.approved)}</td><td>${money(x.paid)}</td></tr>`)}</tbody></table>`}<//>`}
    <h2>Requests</h2>
    ${!vendor && html`<p><a class="button" href="mdf/requests/new">Request funds</a></p>`}
    <${Loaded} state=${paged.first}>${() => paged.items.length === 0 ? html`<p>No requests yet.</p>` : html`
      <ul class="recent">${paged.items.map(r => html`<li><a href=${(vendor ? "vendor/mdf/requests/" : "mdf/requests/") + r.id}>${r.title}</a> <${Status} value=${r.status} /> ${money(r.requestedAmount)}</li>`)}</ul>
      <${MoreButton} cursor=${paged.cursor} next=${paged.next} />`}<//>
  </section>`;
}

export function NewFundRequest() {
  const form = useForm();
  const [v, setV] = useState({ title: "", description: "", activityType: "event", startDate: "", endDate: "", amount: "", currency: "EUR", contribution: "50", audience: "" });
  const set = (k: keyof typeof v) => (x: string) => setV(s => ({ ...s, [k]: x }));
  const send = form.submit(async () => {
    const r = await ok(api.POST("/mdf/requests", {
      params: { header: { "Idempotency-Key": crypto.randomUUID() } },
      body: {
        title: v.title || null, description: v.description || null, activityType: v.activityType, startDate: v.startDate || null, endDate: v.endDate || null,
        requestedAmount: { amount: v.amount === "" ? null : Number(v.amount), currency: v.currency },
        partnerContributionPercent: v.contribution === "" ? null : Number(v.contribution), targetAudience: v.audience || null,
      },
    }));
    navigate("mdf/requests/" + r.id);
  });
  return html`<section><${Title}>Request funds<//>
    <form onSubmit=${send} novalidate>
      <${ProblemBanner} problem=${form.problem} fields=${["title", "description", "activityType", "startDate", "endDate", "requestedAmount", "partnerContributionPercent", "targetAudience"]} />
      <${Field} label="Title" name="title" value=${v.title} onInput=${set("title")} problem=${form.problem} required />
      <${Field} label="Description" name="description" multiline value=${v.description} onInput=${set("description")} problem=${form.problem} required />
      <${Field} label="Activity type" name="activityType" value=${v.activityType} onInput=${set("activityType")} problem=${form.problem}
        options=${[["event", "Event"], ["webinar", "Webinar"], ["digital", "Digital campaign"], ["print", "Print"], ["tradeshow", "Trade show"], ["other", "Other"]]} />
      <div class="row"><${Field} label="Start date" name="startDate" type="date" value=${v.startDate} onInput=${set("startDate")} problem=${form.problem} required />
        <${Field} label="End date" name="endDate" type="date" value=${v.endDate} onInput=${set("endDate")} problem=${form.problem} required /></div>
      <div class="row"><${Field} label="Requested amount" name="requestedAmount" type="number" min="0" value=${v.amount} onInput=${set("amount")} problem=${form.problem} required />
        <${Field} label="Currency" name="requestedAmount.currency" value=${v.currency} onInput=${set("currency")} options=${[["EUR", "EUR"], ["USD", "USD"], ["GBP", "GBP"]]} problem=${form.problem} /></div>
      <${Field} label="Your contribution (%)" name="partnerContributionPercent" type="number" min="0" max="100" value=${v.contribution} onInput=${set("contribution")} problem=${form.problem} />
      <${Field} label="Audience" name="targetAudience" value=${v.audience} onInput=${set("audience")} problem=${form.problem} />
      <button type="submit" disabled=${form.busy}>Send the request</button>
    </form></section>`;
}

export function FundRequestDetail({ id, vendor }: { id: string; vendor?: boolean }) {
  const request = useLoad(() => ok(api.GET("/mdf/requests/{requestId}", { params: { path: { requestId: id } } })), [id]);
  return html`<${Loaded} state=${request}>${(r: Request) => html`<section>
    <${Title}>${r.title}<//>
    <p><${Status} value=${r.status} /> · ${r.partnerName} · ${r.activityType} ${date(r.startDate)}–${date(r.endDate)}</p>
    <dl class="details"><dt>Requested</dt><dd>${money(r.requestedAmount)}</dd><dt>Approved</dt><dd>${money(r.approvedAmount)}</dd>
      <dt>Claim at most</dt><dd>${money(r.maxClaim)}</dd><dt>Claim by</dt><dd>${date(r.claimDeadline)}</dd>
      ${r.infoRequest && html`<dt>Question from your channel manager</dt><dd>${r.infoRequest}</dd>`}</dl>
    ${vendor && ["Submitted", "AwaitingSecondApproval"].includes(r.status) && html`<${Decision} subject="request" path=${`/mdf/requests/${r.id}/decision`} choices=${[["approve", "Approve"], ["reject", "Reject"], ["requestInfo", "Ask for information"]]} onDone=${request.reload} />`}
    ${!vendor && r.status === "Approved" && !r.claim && html`<${NewClaim} request=${r} onDone=${request.reload} />`}
    ${r.claim && html`<${ClaimView} claimId=${r.claim.id} vendor=${vendor} />`}
    <${Timeline} path=${`/mdf/requests/${r.id}/timeline`} version=${r.status} />
  </section>`}<//>`;
}

function NewClaim({ request, onDone }: { request: Request; onDone: () => void }) {
  const form = useForm();
  const [v, setV] = useState({ amount: "", leads: "", attendees: "", notes: "" });
  const set = (k: keyof typeof v) => (x: string) => setV(s => ({ ...s, [k]: x }));
  const send = form.submit(async () => {
    await ok(api.POST("/mdf/requests/{requestId}/claims", {
      params: { path: { requestId: request.id }, header: { "Idempotency-Key": crypto.randomUUID() } },
      body: { claimedAmount: { amount: v.amount === "" ? null : Number(v.amount), currency: request.requestedAmount.currency }, actualLeads: v.leads === "" ? null : Number(v.leads), attendees: v.attendees === "" ? null : Number(v.attendees), notes: v.notes || null },
    }));
    onDone();
  });
  return html`<form onSubmit=${send} novalidate><h2>Claim the funds</h2>
    <${ProblemBanner} problem=${form.problem} fields=${["claimedAmount", "actualLeads", "attendees", "notes"]} />
    <${Field} label="Claimed amount" name="claimedAmount" type="number" min="0" value=${v.amount} onInput=${set("amount")} problem=${form.problem} required hint=${`At most ${money(request.maxClaim)}`} />
    <${Field} label="Leads generated" name="actualLeads" type="number" min="0" value=${v.leads} onInput=${set("leads")} problem=${form.problem} required />
    <${Field} label="Attendees" name="attendees" type="number" min="0" value=${v.attendees} onInput=${set("attendees")} problem=${form.problem} />
    <${Field} label="Notes" name="notes" multiline value=${v.notes} onInput=${set("notes")} problem=${form.problem} />
    <button type="submit" disabled=${form.busy}>Create the claim</button></form>`;
}

export function ClaimView({ claimId, vendor }: { claimId: string; vendor?: boolean }) {
  const claim = useLoad(() => ok(api.GET("/mdf/claims/{claimId}", { params: { path: { claimId } } })), [claimId]);
  const form = useForm();
  const [file, setFile] = useState<File | null>(null);
  // The proof goes from the browser straight to Blob storage (a write-only SAS URL), then the API checks it.
  const upload = form.submit(async () => {
    if (!file) throw new ApiError({ title: "Choose a file first.", errors: { proof: ["Choose a PDF, PNG, JPEG, XLSX or CSV file."] } });
    const slot = await ok(api.POST("/mdf/claims/{claimId}/proofs", { params: { path: { claimId }, header: { "Idempotency-Key": crypto.randomUUID() } }, body: { fileName: file.name } }));
    const put = await fetch(slot.uploadUrl, { method: "PUT", body: file, headers: { "x-ms-blob-type": "BlockBlob", "content-type": file.type || "application/octet-stream" } });
    if (!put.ok) throw new ApiError({ title: `The upload to storage failed (${put.status}). Try again.` });
    await ok(api.POST("/mdf/claims/{claimId}/proofs/{proofId}/complete", { params: { path: { claimId, proofId: slot.proofId } } }));
    setFile(null);
    claim.reload();
  });
  // Submitting sends the claim as it stands (the body may also update it, as after a request for information).
  const submit = form.submit(async () => {
    const c = claim.data!;
    await ok(api.POST("/mdf/claims/{claimId}/submit", { params: { path: { claimId } }, body: { claimedAmount: c.claimedAmount, actualLeads: c.actualLeads, attendees: c.attendees, notes: c.notes } }));
    claim.reload();
  });
  return html`<${Loaded} state=${claim}>${(c: Claim) => html`<section aria-labelledby="claim"><h2 id="claim">Claim</h2>
    <p><${Status} value=${c.status} /> · claimed ${money(c.claimedAmount)} · ${c.actualLeads} leads</p>
    <h3>Proof of performance</h3>
    ${c.proofs.length === 0 ? html`<p>No proof yet.</p>` : html`<ul>${c.proofs.map(p => html`<li>${p.fileName} · ${p.status}</li>`)}</ul>`}
    <${ProblemBanner} problem=${form.problem} fields=${["proof"]} />
    ${!vendor && ["Draft", "InfoRequested"].includes(c.status) && html`<form onSubmit=${upload} class="inline-form">
      <div class=${"field" + (form.problem?.errors?.proof ? " invalid" : "")}><label for="proof-file">Proof file (PDF, PNG, JPEG, XLSX or CSV)</label>
        <input id="proof-file" type="file" accept=".pdf,.png,.jpg,.jpeg,.xlsx,.csv" onChange=${(e: Event) => setFile((e.target as HTMLInputElement).files?.[0] ?? null)} />
        ${form.problem?.errors?.proof && html`<p class="error" role="alert">${form.problem.errors.proof.join(" ")}</p>`}</div>
      <button type="submit" class="secondary" disabled=${form.busy}>Upload</button></form>
      <p><button type="button" onClick=${submit} disabled=${form.busy || c.proofs.length === 0}>Submit the claim</button></p>`}
    ${vendor && c.status === "Submitted" && html`<${Decision} subject="claim" path=${`/mdf/claims/${c.id}/decision`} choices=${[["approve", "Approve"], ["reject", "Reject"], ["requestInfo", "Ask for information"]]} onDone=${claim.reload} />`}
  </section>`}<//>`;
}
