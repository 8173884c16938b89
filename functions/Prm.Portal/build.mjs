// Builds the portal into dist/: one bundle (esbuild), the page, the styles and the Static Web App's routing file.
// In Azure (azd deploy of the `web` service) the sign-in settings come from the environment and land in dist/config.json;
// the local host serves its own /portal/config.json instead.
import { build } from "esbuild";
import { cp, mkdir, rm, writeFile } from "node:fs/promises";

await rm("dist", { recursive: true, force: true });
await mkdir("dist", { recursive: true });
await build({
  entryPoints: { app: "src/main.ts" },
  bundle: true,
  splitting: true, // MSAL.js loads only where Entra sign-in is used
  chunkNames: "chunks/[name]-[hash]",
  minify: true,
  sourcemap: true,
  format: "esm",
  target: ["es2022"],
  outdir: "dist",
  logLevel: "warning",
});
await cp("src/styles.css", "dist/styles.css");
await cp("public/staticwebapp.config.json", "dist/staticwebapp.config.json");
// azd passes the environment's values (the Bicep outputs) to the build.
const env = process.env;
const clientId = env.PRM_PORTAL_CLIENT_ID || env.AZURE_AD_CLIENT_ID;
if (clientId && env.API_BASE_URL) {
  await writeFile("dist/config.json", JSON.stringify({
    mode: "entra",
    apiBaseUrl: env.API_BASE_URL,
    clientId,
    authority: env.PRM_PORTAL_AUTHORITY || env.AZURE_AD_AUTHORITY || "https://login.microsoftonline.com/organizations",
    scope: env.PRM_PORTAL_SCOPE || env.AZURE_AD_API_SCOPE,
  }, null, 2));
}
// Last: the local host's build (Prm.DevHost.csproj) treats dist/index.html as the build's output.
await cp("src/index.html", "dist/index.html");
