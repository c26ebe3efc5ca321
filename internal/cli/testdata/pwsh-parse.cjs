// Parses a PowerShell script with tree-sitter's PowerShell grammar (npm
// packages web-tree-sitter and tree-sitter-powershell, run as WebAssembly)
// and prints every syntax error or missing token; exit status 1 when there
// is one. completion_pwsh_test.go runs it on `porthole completion
// powershell`, since PowerShell itself is not packaged for Debian.
//
//   node --liftoff-only pwsh-parse.cjs NODE_MODULES_DIR SCRIPT.ps1
const fs = require('fs');
const path = require('path');
const [modules, script] = process.argv.slice(2);
const { Parser, Language } = require(path.join(modules, 'web-tree-sitter', 'tree-sitter.cjs'));
(async () => {
  await Parser.init();
  const lang = await Language.load(path.join(modules, 'tree-sitter-powershell', 'tree-sitter-powershell.wasm'));
  const parser = new Parser();
  parser.setLanguage(lang);
  const tree = parser.parse(fs.readFileSync(script, 'utf8'));
  const errors = [];
  const walk = (n) => {
    if (n.isError || n.isMissing) {
      const what = n.isMissing ? 'missing ' + n.type : 'syntax error at ' + JSON.stringify(n.text.slice(0, 60));
      errors.push(`${script}:${n.startPosition.row + 1}:${n.startPosition.column + 1}: ${what}`);
    }
    for (const c of n.children) walk(c);
  };
  walk(tree.rootNode);
  console.log(`${tree.rootNode.type}: ${tree.rootNode.namedChildCount} top-level statements, ${errors.length} errors`);
  errors.forEach((e) => console.log(e));
  process.exit(errors.length ? 1 : 0);
})().catch((e) => { console.error(e); process.exit(3); });
