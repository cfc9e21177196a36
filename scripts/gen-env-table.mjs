// Prints the README's environment table from the schemas (after `npm run build`).
import { envTableMarkdown } from '../dist/config/index.js'
process.stdout.write(envTableMarkdown() + '\n')
