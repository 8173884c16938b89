// Vendor staff: the review inbox and the screens the review emails open (applications, deals, MDF requests and claims, leads, assets).
import { api, ok } from "../api/client";
import type { components } from "../api/schema";
import { Details, Loaded, Status, Title, date, html, useLoad } from "../ui";
import { Decision, Timeline } from "./deals";
import { ClaimView } from "./mdf";
import { Inbox } from "./home";

export function ReviewInbox() {
  const home = useLoad(() => ok(api.GET("/portal/home")));
  return html`<section><${Title}>Review inbox<//>
    <${Loaded} state=${home}>${(h: components["schemas"]["PortalHomeDto"]) => h.audience !== "vendor"
      ? html`<p>The review inbox is for the vendor's channel managers and admins.</p>`
      : html`<${Inbox} items=${h.inbox} title="Reviews due, the most urgent first" />`}<//>
  </section>`;
}

export function ApplicationReview({ id }: { id: string }) {
  const app = useLoad(() => ok(api.GET("/partner-applications/{applicationId}", { params: { path: { applicationId: id } } })), [id]);
  return html`<${Loaded} state=${app}>${(a: components["schemas"]["ApplicationDto"]) => html`<section>
    <${Title}>${`Partner application: ${a.company.legalName}`}<//>
    <p><${Status} value=${a.status} /> · submitted ${date(a.submittedAt)} by ${a.applicant.name} (${a.applicant.email})</p>
    <h2>Company</h2><${Details} value=${a.company} />
    <h2>Screening</h2><${Details} value=${a.screening} />
    ${a.infoRequest && html`<p>Question: ${a.infoRequest}${a.infoAnswer ? html`<br />Answer: ${a.infoAnswer}` : ""}</p>`}
    ${a.status === "UnderReview" && html`<${Decision} subject="application" path=${`/partner-applications/${a.id}/decision`}
      choices=${[["approve", "Approve"], ["reject", "Reject"], ["requestInfo", "Ask for information"]]} onDone=${app.reload} />`}
    <${Timeline} path=${`/partner-applications/${a.id}/timeline`} />
  </section>`}<//>`;
}

export function ClaimReview({ id }: { id: string }) {
  return html`<section><${Title}>MDF claim review<//><${ClaimView} claimId=${id} vendor=${true} /></section>`;
}

export function AssetAdmin({ id }: { id: string }) {
  const asset = useLoad(() => ok(api.GET("/assets/{assetId}", { params: { path: { assetId: id } } })), [id]);
  return html`<${Loaded} state=${asset}>${(a: components["schemas"]["AssetDto"]) => html`<section>
    <${Title}>${a.title}<//><p><${Status} value=${a.status} /></p>
    <h2>Versions</h2><${Details} value=${a.versions.map(v => ({ version: v.number, status: v.status, file: v.fileName, size: v.size, uploadedBy: v.uploadedByName, changeNote: v.changeNote }))} />
    <h2>Who sees it</h2><${Details} value=${a.visibility} />
    <${Timeline} path=${`/assets/${a.id}/timeline`} />
  </section>`}<//>`;
}

export function LeadStats({ partnerId }: { partnerId: string }) {
  const stats = useLoad(() => ok(api.GET("/partners/{partnerId}/lead-stats", { params: { path: { partnerId } } })), [partnerId]);
  return html`<section><${Title}>Lead statistics<//><${Loaded} state=${stats}>${(s: unknown) => html`<${Details} value=${s} />`}<//></section>`;
}
