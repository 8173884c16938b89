// Content: browse and search the library, an asset's page, download it, get the company's co-branded copy.
import { useState } from "preact/hooks";
import { api, apiUrl, bearer, ok, ApiError } from "../api/client";
import type { components } from "../api/schema";
import { Field, Loaded, ProblemBanner, Title, date, html, useForm, useLoad } from "../ui";
import { MoreButton, usePaged } from "./deals";

type Asset = components["schemas"]["AssetDto"];

export function AssetList() {
  const [search, setSearch] = useState("");
  const [query, setQuery] = useState("");
  const paged = usePaged(cursor => ok(api.GET("/assets", { params: { query: { cursor, limit: 20, search: query || undefined } } })), [query]);
  return html`<section><${Title}>Content library<//>
    <form class="toolbar" role="search" onSubmit=${(e: Event) => { e.preventDefault(); setQuery(search); }}>
      <${Field} label="Search titles and tags" name="search" type="search" value=${search} onInput=${setSearch} />
      <button type="submit" class="secondary">Search</button>
    </form>
    <${Loaded} state=${paged.first}>${() => paged.items.length === 0 ? html`<p>No content${query ? " matches" : " yet"}.</p>` : html`
      <ul class="cards">${paged.items.map(a => html`<li><a href=${"assets/" + a.id}>${a.title}</a><br /><small>${a.type} · ${a.locale} · ${date(a.publishedAt)}</small></li>`)}</ul>
      <${MoreButton} cursor=${paged.cursor} next=${paged.next} />`}<//>
  </section>`;
}

/** Fetches a download (the API answers 302 to a short-lived storage link) and hands the file to the browser. */
async function download(path: string, fallbackName: string) {
  const t = await bearer();
  const response = await fetch(apiUrl(path), { headers: t ? { Authorization: `Bearer ${t}` } : {} });
  if (!response.ok) {
    let problem: { title?: string; detail?: string } = {};
    try { problem = await response.json(); } catch { /* not JSON */ }
    throw new ApiError({ status: response.status, title: problem.title ?? `The download failed (${response.status}).`, detail: problem.detail });
  }
  const blob = await response.blob();
  const disposition = response.headers.get("content-disposition") ?? "";
  const name = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(disposition)?.[1] ?? fallbackName;
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = decodeURIComponent(name);
  document.body.appendChild(a);
  a.click();
  setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
}

export function AssetDetail({ id }: { id: string }) {
  const asset = useLoad(() => ok(api.GET("/assets/{assetId}", { params: { path: { assetId: id } } })), [id]);
  const form = useForm();
  const [done, setDone] = useState("");
  return html`<${Loaded} state=${asset}>${(a: Asset) => {
    const current = a.versions.find(v => v.number === a.currentVersion) ?? a.versions[a.versions.length - 1];
    const name = current?.fileName ?? `${a.title}.${current?.contentType?.split("/").pop() ?? "bin"}`;
    return html`<section>
      <${Title}>${a.title}<//>
      <p>${a.type} · ${a.locale} · published ${date(a.publishedAt)}${current ? ` · version ${current.number}` : ""}</p>
      ${a.description && html`<p>${a.description}</p>`}
      ${current?.changeNote && html`<p>What changed: ${current.changeNote}</p>`}
      <${ProblemBanner} problem=${form.problem} />
      <div class="buttons">
        <button type="button" disabled=${form.busy} onClick=${form.submit(async () => { await download(`/assets/${a.id}/download`, name); setDone("Downloaded."); })}>Download</button>
        ${a.coBrand && html`<button type="button" class="secondary" disabled=${form.busy} onClick=${form.submit(async () => { await download(`/assets/${a.id}/cobranded`, `${a.title} (co-branded).pdf`); setDone("Your co-branded copy is downloaded."); })}>Co-branded copy</button>`}
      </div>
      ${done && html`<p class="done" role="status">${done}</p>`}
    </section>`;
  }}<//>`;
}
