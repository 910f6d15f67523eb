#!/usr/bin/env node
// node/cli.js - `npx xception-gradcam predict|explain|layers|convert|bench [options]`: the native
// command-line tool's own C code (src/cli: its one option table, its JSON, its messages and exit
// statuses), compiled to WebAssembly with the host's files (Emscripten NODERAWFS) and run here,
// so no native build is needed. Its arithmetic is the portable one (the wasm SIMD build's), so
// its numbers equal the native CLI's default (`--arithmetic portable`) bit for bit;
// `--arithmetic fma` is refused as in a build without FMA. One thread. Messages start with
// "gradcam:", as the native tool's.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

// the package's dist/cli/, or in the repository build/wasm-st/ (where CMake builds it)
const dirs = ['../cli/', '../../build/wasm-st/'].map((d) => fileURLToPath(new URL(d, import.meta.url)));
const dir = dirs.find((d) => existsSync(`${d}gradcam-cli.js`) && existsSync(`${d}gradcam-cli.wasm`));
if (!dir) {
  console.error(`xception-gradcam: the command-line module is missing (looked in ${dirs.join(' and ')}): reinstall the package`);
  process.exit(1);
}
// Given the module's bytes, Emscripten's Node glue does not try fetch() (which fails on a file
// path under Node 18+); main() runs at once with the arguments after the script's name and ends
// the process with its exit status.
createRequire(import.meta.url)(`${dir}gradcam-cli.js`)({ wasmBinary: readFileSync(`${dir}gradcam-cli.wasm`), arguments: process.argv.slice(2) });
