// Builds the web page into dist/web: one bundled, minified script (esbuild) and the
// static files beside it. `npm run build` runs it; `synclog serve` serves the result.
import { build } from 'esbuild'
import { copyFile, mkdir } from 'node:fs/promises'
import { URL, fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const out = `${root}dist/web`

await mkdir(out, { recursive: true })
await build({
  entryPoints: [`${root}web/src/main.ts`],
  outfile: `${out}/app.js`,
  bundle: true,
  format: 'esm',
  target: 'es2022',
  minify: true,
  sourcemap: 'linked',
  legalComments: 'none',
  logLevel: 'warning',
})
await Promise.all(['index.html', 'app.css'].map((name) => copyFile(`${root}web/${name}`, `${out}/${name}`)))
