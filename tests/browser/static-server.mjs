#!/usr/bin/env node
// static-server.mjs - the plainest static web server, as a school's or a USB stick's would be:
// GET and HEAD of files under one folder, index.html for a folder, a Content-Type by file
// extension and nothing else (no COOP/COEP, no CSP, no Service-Worker-Allowed, no redirects).
// Run as a child process by the offline tests, so that stopping it is stopping a process:
//   node tests/browser/static-server.mjs DIR   (prints "listening http://127.0.0.1:PORT/")
import { createReadStream, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';

const dir = normalize(process.argv[2]);
const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.css': 'text/css', '.wasm': 'application/wasm',
  '.json': 'application/json', '.webmanifest': 'application/manifest+json', '.png': 'image/png', '.jpg': 'image/jpeg', '.svg': 'image/svg+xml' };

createServer((req, res) => {
  let file = join(dir, normalize(decodeURIComponent(new URL(req.url, 'http://x').pathname)));
  if (!file.startsWith(dir + sep) && file !== dir) { res.writeHead(403).end(); return; }
  try {
    if (statSync(file).isDirectory()) file = join(file, 'index.html');
    const { size } = statSync(file);
    res.writeHead(200, { 'Content-Type': TYPES[extname(file)] || 'application/octet-stream', 'Content-Length': size });
    if (req.method === 'HEAD') res.end();
    else createReadStream(file).pipe(res);
  } catch {
    res.writeHead(404).end();
  }
}).listen(0, '127.0.0.1', function listening() { console.log(`listening http://127.0.0.1:${this.address().port}/`); });
