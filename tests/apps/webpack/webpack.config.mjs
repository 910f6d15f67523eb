// The fixture's webpack 5 configuration: an entry and an output folder, nothing for the package.
import { fileURLToPath } from 'node:url';

export default {
  mode: 'production',
  context: fileURLToPath(new URL('.', import.meta.url)),
  entry: './main.js',
  output: { path: fileURLToPath(new URL('./dist/', import.meta.url)), filename: 'main.js', clean: false },
  performance: { hints: false },
};
