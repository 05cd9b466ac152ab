// Bundles the embedded app with esbuild into fingerprinted, minified assets in dist/assets and
// writes dist/manifest.json ({"js": "...", "css": "..."}) for the admin-api function, which
// embeds them at compile time and serves them from /app/assets/ with a year-long cache.
import { build } from 'esbuild';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(fileURLToPath(import.meta.url));
const out = join(root, 'dist');
rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, 'assets'), { recursive: true });

const result = await build({
  entryPoints: { app: join(root, 'src/main.jsx'), styles: join(root, 'src/app.css') },
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['es2020'],
  jsx: 'automatic',
  loader: { '.js': 'jsx' },
  define: { 'process.env.NODE_ENV': '"production"' },
  entryNames: '[name]-[hash]',
  outdir: join(out, 'assets'),
  metafile: true,
  legalComments: 'none',
  logLevel: 'warning',
});

const outputs = Object.keys(result.metafile.outputs).map((file) => basename(file));
const manifest = {
  js: outputs.find((f) => f.startsWith('app-') && f.endsWith('.js')),
  css: outputs.find((f) => f.startsWith('styles-') && f.endsWith('.css')),
};
if (!manifest.js || !manifest.css) throw new Error(`unexpected outputs: ${outputs.join(', ')}`);
writeFileSync(join(out, 'manifest.json'), `${JSON.stringify(manifest)}\n`);
for (const [file, meta] of Object.entries(result.metafile.outputs)) {
  if (!file.endsWith('.map')) console.log(`app: ${basename(file)} ${(meta.bytes / 1024).toFixed(1)} KB`);
}
