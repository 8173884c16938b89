// The remaining screens emails link to: invitations, the applicant's status and answer, plans, tier, onboarding, POS batches.
import { useState } from "preact/hooks";
import { api, ok } from "../api/client";
import type { components } from "../api/schema";
import { basePath, navigate } from "../router";
import { Details, Field, Loaded, ProblemBanner, Status, Title, date, html, useForm, useLoad } from "../ui";

/** The invitation link: the signed-in person joins the partner with the one-time code. */
export function AcceptInvitation({ code }: { code: string | null }) {
  const form = useForm();
  const [joined, setJoined] = useState(false);
  const accept = form.submit(async () => {
    await ok(api.POST("/invitations/accept", { body: { code } }));
    setJoined(true);
  });
  if (!code) return html`<section><${Title}>Invitation<//><p class="problem">This link has no invitation code. Open the link from your invitation email again.</p></section>`;
  return html`<section><${Title}>Join your company's partner account<//>
    ${joined ? html`<p class="done" role="status">Welcome aboard: you joined the partner account. <a href=${basePath} onClick=${(e: Event) => { e.preventDefault(); location.href = basePath; }}>Go to your home page</a></p>` : html`
      <p>You were invited to the partner portal. Accept to join your company's account as the person you signed in as.</p>
      <${ProblemBanner} problem=${form.problem} fields=${[]} />
      <button type="button" onClick=${accept} disabled=${form.busy}>Accept the invitation</button>`}
  </section>`;
}

/** The applicant's view of an application (no account): the signed status token from the email. */
export function ApplicationStatus({ id, token }: { id: string; token: string | null }) {
  const status = useLoad(async () => token ? ok(api.GET("/partner-applications/{applicationId}/status", { params: { path: { applicationId: id }, query: { token } } })) : null, [id, token]);
  return html`<section><${Title}>Your partner application<//>
    ${!token ? html`<p>Follow the status link in your confirmation email to see your application. The program team will email you when it is decided.</p>` : html`
      <${Loaded} state=${status}>${(s: components["schemas"]["ApplicationStatusDto"]) => html`
        <p>${s.companyName}: <${Status} value=${s.status} /> (submitted ${date(s.submittedAt)})</p>
        ${s.reason && html`<p>Reason: ${s.reason}</p>`}
        ${s.infoRequest && html`<p>The program team asks: ${s.infoRequest} <a href=${`applications/${id}/info?token=${encodeURIComponent(token)}`}>Answer</a> by ${date(s.infoDueAt)}</p>`}`}<//>`}
  </section>`;
}

export function AnswerApplication({ id, token }: { id: string; token: string | null }) {
  const form = useForm();
  const [answer, setAnswer] = useState("");
  const [sent, setSent] = useState(false);
  const send = form.submit(async () => {
    await ok(api.POST("/partner-applications/{applicationId}/info", { params: { path: { applicationId: id } }, body: { token, answer } }));
    setSent(true);
  });
  return html`<section><${Title}>Answer the program team<//>
    ${sent ? html`<p class="done" role="status">Thank you: your answer is with the reviewer.</p>` : html`<form onSubmit=${send} novalidate>
      <${ProblemBanner} problem=${form.problem} fields=${["answer"]} />
      <${Field} label="Your answer" name="answer" multiline value=${answer} onInput=${setAnswer} problem=${form.problem} required />
      <button type="submit" disabled=${form.busy}>Send</button></form>`}
  </section>`;
}

export function PlanScreen({ id }: { id: string }) {
  // Accepting needs the plan's ETag (If-Match): the version read is the one accepted.
  const plan = useLoad(async () => {
    const view = await ok(api.GET("/plans/{planId}", { params: { path: { planId: id } } }));
    const { response } = await api.GET("/plans/{planId}", { params: { path: { planId: id } } });
    return { ...view, etag: response.headers.get("etag") ?? "*" };
  }, [id]);
  const form = useForm();
  return html`<${Loaded} state=${plan}>${(v: components["schemas"]["PlanView"] & { etag: string }) => html`<section>
    <${Title}>${v.plan.title}<//>
    <p><${Status} value=${v.plan.status} /> · ${v.plan.partnerName} · fiscal year ${v.plan.fiscalYear} · version ${v.plan.version}</p>
    <table><caption class="visually-hidden">Objectives</caption><thead><tr><th scope="col">Objective</th><th scope="col">Year target</th><th scope="col">So far</th><th scope="col">Quarters</th></tr></thead>
      <tbody>${v.progress.map(o => html`<tr><td>${o.name}</td><td>${o.yearTarget}</td><td>${o.yearActual}</td><td>${o.quarters.map(q => `Q${q.quarter}: ${q.actual}/${q.target} ${q.status}`).join(" · ")}</td></tr>`)}</tbody></table>
    <${ProblemBanner} problem=${form.problem} />
    ${v.plan.status === "Proposed" && html`<button type="button" disabled=${form.busy} onClick=${form.submit(async () => {
      await ok(api.POST("/plans/{planId}/accept", { params: { path: { planId: id }, header: { "If-Match": v.etag } } }));
      plan.reload();
    })}>Accept the plan</button>`}
  </section>`}<//>`;
}

/** Any record the portal only shows: a readable page of what the API answers for it. */
export function RecordScreen({ title, load }: { title: string; load: () => Promise<unknown> }) {
  const record = useLoad(load, [title]);
  return html`<section><${Title}>${title}<//><${Loaded} state=${record}>${(r: unknown) => html`<${Details} value=${r} />`}<//></section>`;
}

export const tierScreen = (partnerId: string) => () => ok(api.GET("/partners/{partnerId}/tier", { params: { path: { partnerId } } }));
export const onboardingScreen = (partnerId: string) => () => ok(api.GET("/partners/{partnerId}/onboarding", { params: { path: { partnerId } } }));
export const teamScreen = (partnerId: string) => async () =>
  (await ok(api.GET("/partners/{partnerId}/users", { params: { path: { partnerId } } }))).items.map(u => ({ name: u.displayName, email: u.email, role: u.role, status: u.status }));
export const posBatchScreen = (batchId: string) => () => ok(api.GET("/pos/batches/{batchId}", { params: { path: { batchId } } }));

export function NotFound() {
  return html`<section><${Title}>Page not found<//><p>There is no page here. <a href="" onClick=${(e: Event) => { e.preventDefault(); navigate(""); }}>Go to your home page</a>.</p></section>`;
}
