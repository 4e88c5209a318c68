// Bundles editor.js and the CodeMirror packages it imports (exact versions in
// package-lock.json) into one file, grader/web/static/editor.js. Run with `npm ci && npm run build`,
// then put the printed SHA-256 in grader/web/assets.py (see README.md).
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { build } from "esbuild";

const OUT = "../grader/web/static/editor.js";

// CodeMirror puts its own styles in a <style> element, which the pages' Content-Security-Policy
// (style-src 'self', no 'unsafe-inline') refuses. style-mod already knows a way the policy allows,
// a constructed style sheet adopted by the root; it keeps that for shadow roots only. This makes
// it the way for the document too. The build stops if the line to change is not found.
const ADOPTED_FOR_SHADOW_ROOTS_ONLY = "if (!root.head && root.adoptedStyleSheets && win.CSSStyleSheet) {";
const constructedStyleSheets = {
  name: "constructed-style-sheets",
  setup(context) {
    context.onLoad({ filter: /style-mod[\\/]src[\\/]style-mod\.js$/ }, ({ path }) => {
      const source = readFileSync(path, "utf8");
      if (!source.includes(ADOPTED_FOR_SHADOW_ROOTS_ONLY)) {
        throw new Error(`style-mod changed: "${ADOPTED_FOR_SHADOW_ROOTS_ONLY}" is not in ${path}`);
      }
      const patched = source.replace(ADOPTED_FOR_SHADOW_ROOTS_ONLY, "if (root.adoptedStyleSheets && win.CSSStyleSheet) {");
      return { contents: patched, loader: "js" };
    });
  },
};

await build({
  entryPoints: ["editor.js"],
  bundle: true,
  minify: true,
  format: "iife",
  target: "es2020",
  legalComments: "none",
  charset: "utf8",
  banner: {
    js: "/* The exercise pages' code editor: CodeMirror 6 (MIT licence, Marijn Haverbeke and others), bundled from the repository's editor/ folder; see editor/README.md. */",
  },
  outfile: OUT,
  plugins: [constructedStyleSheets],
});

const digest = createHash("sha256").update(readFileSync(OUT)).digest("hex");
console.log(`${OUT}\nsha256 ${digest}`);
