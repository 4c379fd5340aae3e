// Builds podium's web UI into ../internal/web/dist (embedded by package web).
//
//   node build.mjs            minified production build
//   node build.mjs --dev      unminified, with inline source maps
//
// Each page in pages/*.html references its script and the stylesheet with
// placeholders ({{index.js}}, {{style.css}}, ...) that are replaced by the
// content-hashed asset URLs produced by esbuild.
import * as esbuild from 'esbuild';
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const outDir = path.resolve(here, '../internal/web/dist');
const assetsDir = path.join(outDir, 'assets');
const dev = process.argv.includes('--dev');

const entries = ['index.js', 'listen.js', 'studio.js', 'replay.js', 'admin.js', 'style.css'];

// Start from a clean dist, but keep the placeholder that lets the Go package
// compile before the UI is built.
await rm(outDir, { recursive: true, force: true });
await mkdir(assetsDir, { recursive: true });
await writeFile(path.join(outDir, '.gitkeep'), '');

// The proof-of-work Web Worker (join challenges) is bundled on its own as a
// classic script and inlined into the pages' bundles as a string
// (__POW_WORKER_SRC__), started from a blob: URL (CSP: worker-src 'self' blob:).
const worker = await esbuild.build({
  entryPoints: [path.join(here, 'src', 'pow-worker.js')],
  bundle: true,
  write: false,
  format: 'iife',
  target: 'es2020',
  minify: !dev,
  legalComments: 'none',
  logLevel: 'warning',
});
const powWorkerSrc = worker.outputFiles[0].text;

const result = await esbuild.build({
  entryPoints: entries.map((e) => path.join(here, 'src', e)),
  outdir: assetsDir,
  entryNames: '[name]-[hash]',
  bundle: true,
  format: 'esm',
  target: 'es2020',
  minify: !dev,
  sourcemap: dev ? 'inline' : false,
  legalComments: 'none',
  metafile: true,
  logLevel: 'warning',
  define: {
    'process.env.NODE_ENV': dev ? '"development"' : '"production"',
    __POW_WORKER_SRC__: JSON.stringify(powWorkerSrc),
  },
});

// Map "index.js" -> "/assets/index-ABCD1234.js".
const assetURL = {};
for (const [out, meta] of Object.entries(result.metafile.outputs)) {
  if (!meta.entryPoint) continue;
  const src = path.basename(meta.entryPoint);
  assetURL[src] = '/assets/' + path.basename(out);
}

const pagesDir = path.join(here, 'pages');
for (const page of await readdir(pagesDir)) {
  if (!page.endsWith('.html')) continue;
  let html = await readFile(path.join(pagesDir, page), 'utf8');
  html = html.replace(/\{\{([\w.-]+)\}\}/g, (m, name) => {
    if (!assetURL[name]) throw new Error(`${page}: unknown asset placeholder ${m}`);
    return assetURL[name];
  });
  await writeFile(path.join(outDir, page), html);
}

const sizes = Object.entries(result.metafile.outputs)
  .map(([out, meta]) => `  ${path.relative(outDir, out)}  ${(meta.bytes / 1024).toFixed(1)} KiB`)
  .join('\n');
console.log(`built ${path.relative(process.cwd(), outDir) || outDir}:\n${sizes}`);
