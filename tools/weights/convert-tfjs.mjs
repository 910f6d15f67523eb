#!/usr/bin/env node
// Convert a TF.js layers-format copy of Keras Xception (model.json + group1-shard*of*.bin)
// into the project weights format, using the WebAssembly core's converter (the same code the
// browser runs).
//   node tools/weights/convert-tfjs.mjs MODEL_DIR/model.json OUT.gcw [--dtype f16|f32]
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { loadNodeCore } from '../test/node-core.mjs';
import { tfjsTensors } from '../../web/convert.js';

const args = process.argv.slice(2);
const dtypeAt = args.indexOf('--dtype');
const dtype = dtypeAt >= 0 ? args.splice(dtypeAt, 2)[1] : 'f16';
if (args.length !== 2) {
  console.error('usage: node tools/weights/convert-tfjs.mjs MODEL_DIR/model.json OUT.gcw [--dtype f16|f32]');
  process.exit(2);
}
const [modelPath, out] = args;
try {
  const json = JSON.parse(readFileSync(modelPath, 'utf8'));
  const dir = dirname(modelPath);
  const core = await loadNodeCore('st');
  const bytes = core.convert(tfjsTensors(json, (p) => readFileSync(join(dir, p))), dtype);
  core.load(bytes);
  const params = core.paramCount();
  core.free();
  writeFileSync(out, bytes);
  console.log(`wrote ${out}: ${params} parameters, ${dtype === 'f32' ? 'float32' : 'float16'}, ${(bytes.length / 1e6).toFixed(1)} MB`);
} catch (e) {
  console.error(`convert-tfjs: ${e.code && !String(e.message).startsWith(e.code) && !String(e.message).includes(`${e.code}:`) ? `${e.code}: ` : ''}${e.message}`);
  process.exit(1);
}
