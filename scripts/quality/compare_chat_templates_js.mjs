// Renders every case of tests/data/chat_templates/jinja2-reference.json (Python Jinja2's
// renderings, see render_chat_templates.py) with @huggingface/jinja, the JavaScript port
// Transformers.js uses, and prints per template how many renderings equal Jinja2's: a second
// reference beside Jinja2, and a check that the reference itself is not peculiar.
//   node compare_chat_templates_js.mjs SCRATCH REFERENCE_JSON TEMPLATE_DIR
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

const [scratch, referencePath, templateDir] = process.argv.slice(2);
const require = createRequire(path.join(scratch, "package.json"));
const { Template } = require("@huggingface/jinja");

const reference = JSON.parse(readFileSync(referencePath, "utf8"));
const rows = new Map();
const differences = [];
for (const c of reference.cases) {
  const row = rows.get(c.template) ?? { cases: 0, equal: 0, conversations: new Set() };
  rows.set(c.template, row);
  row.cases += 1;
  row.conversations.add(c.conversation);
  const source = readFileSync(path.join(templateDir, c.template), "utf8");
  const expected = "output" in c ? c.output : "raises: " + c.error;
  let got;
  try {
    got = new Template(source).render(c.variables); // it defines raise_exception itself
  } catch (error) {
    got = "raises: " + error.message;
  }
  if (got === expected) row.equal += 1;
  else differences.push({ template: c.template, conversation: c.conversation, expected, got });
}
console.log("| template | renderings | @huggingface/jinja equal to Jinja2 | conversations |");
console.log("|---|---|---|---|");
for (const [template, row] of rows)
  console.log(`| ${template} | ${row.cases} | ${row.equal} | ${[...row.conversations].join(", ")} |`);
for (const d of differences.slice(0, 20))
  console.error(JSON.stringify(d).slice(0, 600));
