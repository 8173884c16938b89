// The reference partner portal: sign-in, the brand, the navigation and the routes. Only the public API, through the generated client.
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { api, configureApi, ok } from "./api/client";
import type { components } from "./api/schema";
import { accessToken, loadConfig, signInAsDemoUser, signInWithEntra, signOut, signedInAs, type PortalConfig } from "./auth";
import { match, navigate, useRoute } from "./router";
import { Loaded, ProblemBanner, html, useForm, useLoad } from "./ui";
import { HomeScreen } from "./screens/home";
import { DealDetail, DealList, RegisterDeal } from "./screens/deals";
import { LeadDetail, LeadList } from "./screens/leads";
import { FundRequestDetail, MdfHome, NewFundRequest } from "./screens/mdf";
import { AssetDetail, AssetList } from "./screens/content";
import { AttemptScreen, CourseDetail, TrainingHome } from "./screens/training";
import { ApplicationReview, AssetAdmin, ClaimReview, LeadStats, ReviewInbox } from "./screens/vendor";
import { AcceptInvitation, AnswerApplication, ApplicationStatus, NotFound, PlanScreen, RecordScreen, onboardingScreen, posBatchScreen, teamScreen, tierScreen } from "./screens/other";

type Brand = components["schemas"]["Brand"];
type Me = components["schemas"]["MeResponse"];

/** Routes anyone may open without signing in (the applicant has no account). */
const publicRoutes = ["applications/:id", "applications/:id/info"];

const isVendor = (me: Me) => me.roles.some(r => r === "Prm.Admin" || r === "Prm.ChannelManager");

function screen(route: string, query: URLSearchParams, me: Me) {
  const vendor = isVendor(me);
  const table: [string, (p: Record<string, string>) => unknown][] = [
    ["", () => html`<${HomeScreen} />`],
    ["deals", () => html`<${DealList} vendor=${vendor} />`],
    ["deals/new", () => html`<${RegisterDeal} />`],
    ["deals/:id", p => html`<${DealDetail} id=${p.id} vendor=${vendor} />`],
    ["leads", () => html`<${LeadList} vendor=${vendor} />`],
    ["leads/:id", p => html`<${LeadDetail} id=${p.id} vendor=${vendor} />`],
    ["mdf", () => html`<${MdfHome} vendor=${vendor} />`],
    ["mdf/requests/new", () => html`<${NewFundRequest} />`],
    ["mdf/requests/:id", p => html`<${FundRequestDetail} id=${p.id} vendor=${vendor} />`],
    ["mdf/claims/:id", p => html`<${ClaimReview} id=${p.id} />`],
    ["assets", () => html`<${AssetList} />`],
    ["assets/:id", p => vendor ? html`<${AssetAdmin} id=${p.id} />` : html`<${AssetDetail} id=${p.id} />`],
    ["training", () => html`<${TrainingHome} />`],
    ["training/courses/:id", p => html`<${CourseDetail} id=${p.id} />`],
    ["training/attempts/:id", p => html`<${AttemptScreen} id=${p.id} />`],
    ["reviews", () => html`<${ReviewInbox} />`],
    ["vendor/applications/:id", p => html`<${ApplicationReview} id=${p.id} />`],
    ["vendor/deals", () => html`<${DealList} vendor=${true} />`],
    ["vendor/deals/:id", p => html`<${DealDetail} id=${p.id} vendor=${true} />`],
    ["vendor/mdf/requests/:id", p => html`<${FundRequestDetail} id=${p.id} vendor=${true} />`],
    ["vendor/mdf/claims/:id", p => html`<${ClaimReview} id=${p.id} />`],
    ["vendor/leads/:id", p => html`<${LeadDetail} id=${p.id} vendor=${true} />`],
    ["vendor/assets/:id", p => html`<${AssetAdmin} id=${p.id} />`],
    ["vendor/partners/:id/lead-stats", p => html`<${LeadStats} partnerId=${p.id} />`],
    ["plans/:id", p => html`<${PlanScreen} id=${p.id} />`],
    ["partners/:id/tier", p => html`<${RecordScreen} title="Tier" load=${tierScreen(p.id)} />`],
    ["partners/:id/users", p => html`<${RecordScreen} title="Your team" load=${teamScreen(p.id)} />`],
    ["partners/:id/onboarding", p => html`<${RecordScreen} title="Onboarding checklist" load=${onboardingScreen(p.id)} />`],
    ["pos/batches/:id", p => html`<${RecordScreen} title="Point-of-sale batch" load=${posBatchScreen(p.id)} />`],
  ];
  for (const [pattern, view] of table) {
    const params = match(pattern, route);
    if (params) return view(params);
  }
  return html`<${NotFound} />`;
}

function SignIn({ config, brand }: { config: PortalConfig; brand?: Brand }) {
  const form = useForm();
  const pick = (email: string) => form.submit(async () => {
    await signInAsDemoUser(email);
    location.reload();
  });
  return html`<section class="sign-in"><h1>Sign in to ${brand?.programName ?? "the partner portal"}</h1>
    <${ProblemBanner} problem=${form.problem} />
    ${config.mode === "entra" ? html`<button type="button" onClick=${() => signInWithEntra()}>Sign in with your work account</button>` : html`
      <p>Local development: choose a demo user (signed in with the development token endpoint).</p>
      <ul class="users">${(config.demoUsers ?? []).map(u => html`<li><button type="button" class="user" onClick=${pick(u.email)} disabled=${form.busy}>
        <strong>${u.name}</strong> <span>${u.role}${u.company ? ", " + u.company : ""}</span> <small>${u.email}</small></button></li>`)}</ul>`}
  </section>`;
}

function Nav({ me }: { me: Me }) {
  const vendor = isVendor(me);
  const links: [string, string][] = vendor
    ? [["", "Home"], ["reviews", "Reviews"], ["deals", "Deals"], ["leads", "Leads"], ["mdf", "MDF"], ["assets", "Content"]]
    : [["", "Home"], ["deals", "Deals"], ["leads", "Leads"], ["mdf", "MDF"], ["assets", "Content"], ["training", "Training"]];
  const { route } = useRoute();
  return html`<nav aria-label="Main"><ul>${links.map(([to, label]) => html`<li><a href=${to} aria-current=${(to === "" ? route === "" : route === to || route.startsWith(to + "/")) ? "page" : undefined}>${label}</a></li>`)}</ul></nav>`;
}

function App({ config }: { config: PortalConfig }) {
  const { route, query } = useRoute();
  const brand = useLoad(() => ok(api.GET("/branding")));
  const email = signedInAs();
  const isPublic = publicRoutes.some(p => match(p, route));
  const me = useLoad(async () => (email ? ok(api.GET("/me")) : null), [email]);
  useEffect(() => {
    const b = brand.data;
    if (!b) return;
    document.documentElement.style.setProperty("--brand", b.primaryColor);
    document.title = b.programName;
  }, [brand.data]);
  // Focus the page's heading after a navigation, so keyboard and screen reader users land on the new content.
  useEffect(() => { (document.querySelector("main h1") as HTMLElement | null)?.focus(); }, [route]);
  const b = brand.data;
  return html`<a class="skip" href="#main" onClick=${(e: Event) => { e.preventDefault(); (document.querySelector("main h1") as HTMLElement | null)?.focus(); }}>Skip to content</a>
    <header class="top">
      <a class="brand" href="">${b?.logoUrl && html`<img src=${b.logoUrl} alt="" height="32" />`}<span>${b?.programName ?? "Partner portal"}</span></a>
      ${me.data && html`<${Nav} me=${me.data} />`}
      ${email && html`<div class="who"><span>${me.data?.displayName ?? email}</span> <button type="button" class="link" onClick=${async () => { await signOut(); location.reload(); }}>Sign out</button></div>`}
    </header>
    <main id="main">
      ${isPublic ? (route.endsWith("/info") ? html`<${AnswerApplication} id=${route.split("/")[1]} token=${query.get("token")} />` : html`<${ApplicationStatus} id=${route.split("/")[1]} token=${query.get("token")} />`)
        : !email ? html`<${SignIn} config=${config} brand=${b} />`
        // Someone accepting an invitation is not a member yet: the screen needs no profile.
        : route === "invitations/accept" ? html`<${AcceptInvitation} code=${query.get("code")} />`
        : html`<${Loaded} state=${me}>${(m: Me | null) => m ? screen(route, query, m) : null}<//>`}
    </main>
    <footer>${b?.supportEmail && html`Help: <a href=${"mailto:" + b.supportEmail}>${b.supportEmail}</a>`} ${(b?.legalLinks ?? []).map(l => html` · <a href=${l.url} rel="noopener">${l.label}</a>`)}</footer>`;
}

async function start() {
  const config = await loadConfig();
  configureApi(config.apiBaseUrl, accessToken);
  const root = document.getElementById("app")!;
  root.textContent = ""; // the loading note
  render(html`<${App} config=${config} />`, root);
}

start().catch(() => {
  document.getElementById("app")!.innerHTML = "<p class=\"problem\" role=\"alert\">The portal could not start. Reload the page; if it persists, contact the program team.</p>";
});

export { navigate };
