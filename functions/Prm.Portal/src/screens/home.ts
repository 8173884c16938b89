// Home: the action inbox and tiles of a partner user; the review inbox, escalations and stalled partners of vendor staff.
import { api, ok } from "../api/client";
import type { components } from "../api/schema";
import { Loaded, Title, date, dateTime, html, money, moneyList, useLoad } from "../ui";

type Home = components["schemas"]["PortalHomeDto"];
type Item = components["schemas"]["InboxItem"];

const reviewKinds = new Set(["applicationReview", "dealReview", "extensionReview", "mdfRequestReview", "mdfClaimReview"]);

/** The portal screen of an inbox item's API link (`/api/deals/dr_1` → `deals/dr_1`; a review → the reviewer's screen). */
export function screenOf(item: Item): string {
  const path = item.link.replace(/^.*?\/api\//, "").replace(/^\//, "");
  if (reviewKinds.has(item.kind)) {
    const m = path.match(/^(partner-applications|deals|mdf\/requests|mdf\/claims)\/([^/]+)/);
    if (m) return `vendor/${m[1] === "partner-applications" ? "applications" : m[1]}/${m[2]}`;
  }
  const award = path.match(/^awards\/([^/]+)/);
  if (award) return "training";
  const lead = path.match(/^leads\/([^/]+)/);
  if (lead) return "leads/" + lead[1];
  const users = path.match(/^partners\/([^/]+)\/users/);
  if (users) return `partners/${users[1]}/users`;
  return path.replace(/\/(timeline|claims)$/, "");
}

const kindLabel: Record<string, string> = {
  leadOffer: "Lead offer", dealReturned: "Returned registration", protectionEnding: "Protection ending", mdfInfoRequested: "MDF question",
  mdfClaimDue: "MDF claim due", mdfClaimInfoRequested: "MDF claim question", certificationExpiring: "Certification expiring",
  invitationPending: "Invitation pending", onboardingItem: "Onboarding", planAwaitingAcceptance: "Plan to accept",
  applicationReview: "Application review", dealReview: "Deal review", extensionReview: "Extension review", mdfRequestReview: "MDF request review", mdfClaimReview: "MDF claim review",
};

export function Inbox({ items, title = "To do" }: { items: Item[]; title?: string }) {
  return html`<section aria-labelledby="inbox-title"><h2 id="inbox-title">${title}</h2>
    ${items.length === 0 ? html`<p>Nothing waits for you.</p>` : html`<ul class="inbox">
      ${items.map(i => html`<li>
        <span class="kind">${kindLabel[i.kind] ?? i.kind}</span>
        <a href=${screenOf(i)}>${i.title}</a>
        <span class="meta">${i.deadline ? html`due <time datetime=${i.deadline}>${dateTime(i.deadline)}</time>` : ""}${i.amount ? " · " + money(i.amount) : ""}</span>
      </li>`)}</ul>`}
  </section>`;
}

function Tile({ label, value, href }: { label: string; value: string; href?: string }) {
  return html`<div class="tile"><span class="tile-label">${label}</span><span class="tile-value">${href ? html`<a href=${href}>${value}</a>` : value}</span></div>`;
}

function Unavailable({ home }: { home: Home }) {
  const down = Object.entries(home.sections).filter(([, s]) => (s as { status: string }).status === "unavailable");
  return down.length ? html`<p class="problem" role="status">Some sections could not be read just now: ${down.map(([k]) => k).join(", ")}. The rest is current.</p>` : null;
}

export function HomeScreen() {
  const home = useLoad(() => ok(api.GET("/portal/home")));
  return html`<${Loaded} state=${home}>${(h: Home) => h.audience === "vendor" ? html`<section>
      <${Title}>Your reviews<//>
      <${Unavailable} home=${h} />
      <${Inbox} items=${h.inbox} title="Reviews due" />
      ${h.escalations && h.escalations.length > 0 && html`<${Inbox} items=${h.escalations} title="Escalations" />`}
      <section aria-labelledby="stalled"><h2 id="stalled">Partners with stalled deals</h2>
        ${(h.stalledPartners ?? []).length === 0 ? html`<p>None.</p>` : html`<ul>${h.stalledPartners!.map(p => html`<li>${p.partnerName}: ${p.deals} deals, ${moneyList(p.value)}, first protection end ${date(p.earliestProtectionEnd)}</li>`)}</ul>`}
      </section>
    </section>` : html`<section>
      <${Title}>Home<//>
      <${Unavailable} home=${h} />
      ${h.tier && html`<p class="tier">Tier <strong>${h.tier.badge?.label ?? h.tier.tier}</strong>${h.tier.nextTier ? html` · ${h.tier.progressPercent ?? 0}% of the way to ${h.tier.nextTier}` : ""}</p>`}
      ${h.tiles && html`<div class="tiles">
        <${Tile} label="Pipeline" value=${`${moneyList(h.tiles.pipeline)} (${h.tiles.pipelineDeals ?? 0} deals)`} href="deals" />
        <${Tile} label="Won this quarter" value=${moneyList(h.tiles.wonThisQuarter)} />
        <${Tile} label="MDF available" value=${moneyList(h.tiles.mdfAvailable)} href="mdf" />
        <${Tile} label="Rebates accrued / paid" value=${(h.tiles.rebates ?? []).map(r => `${money({ amount: r.accrued, currency: r.currency })} / ${money({ amount: r.paid, currency: r.currency })}`).join(", ") || "—"} />
        <${Tile} label="Leads awaiting acceptance" value=${String(h.tiles.leadsAwaitingAcceptance ?? 0)} href="leads" />
      </div>`}
      <${Inbox} items=${h.inbox} />
      <${RecentDeals} />
      ${(h.newAssets ?? []).length > 0 && html`<section aria-labelledby="new-assets"><h2 id="new-assets">New content</h2>
        <ul>${h.newAssets!.map(a => html`<li><a href=${"assets/" + a.id}>${a.title}</a> <small>${date(a.publishedAt)}</small></li>`)}</ul></section>`}
      ${(h.trainingInProgress ?? []).length > 0 && html`<section aria-labelledby="training-now"><h2 id="training-now">Your training in progress</h2>
        <ul>${h.trainingInProgress!.map(t => html`<li><a href=${"training/courses/" + t.courseId}>Course ${t.courseId}</a> (${t.status})</li>`)}</ul></section>`}
      ${h.channelManager && html`<p class="contact">Your channel manager: ${h.channelManager.name} · <a href=${"mailto:" + h.channelManager.email}>${h.channelManager.email}</a></p>`}
    </section>`}<//>`;
}

/** The five latest registrations (the caller's own, or the company's for a partner admin). */
function RecentDeals() {
  const deals = useLoad(() => ok(api.GET("/deals", { params: { query: { limit: 5 } } })));
  return html`<section aria-labelledby="recent-deals"><h2 id="recent-deals">Latest registrations</h2>
    <${Loaded} state=${deals}>${(d: components["schemas"]["ListResponseOfDealDto"]) => d.items.length === 0 ? html`<p>None yet. <a href="deals/new">Register a deal</a></p>` : html`
      <ul class="recent">${d.items.map(x => html`<li><a href=${"deals/" + x.id}>${x.registrationNumber} · ${x.customer.companyName}</a> <span class=${"status status-" + x.status.toLowerCase()}>${x.status}</span> ${money(x.estimatedValue)}</li>`)}</ul>`}<//>
  </section>`;
}
