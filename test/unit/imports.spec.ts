/**
 * The shape of the code base, checked on every run: no import cycles in lib/ (so that a
 * module is always evaluated after what it imports), and nothing outside lib/ but the
 * internal-unit tests (test/unit/) reaching past the package's public entry points.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

function sourcesUnder(dir: string): string[] {
  return readdirSync(join(root, dir), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts'))
    .map((file) => join(root, dir, file));
}

/**
 * What a file imports or re-exports at run time, as written: type-only imports and
 * exports are left out (TypeScript erases them, so they cannot make a load-order cycle;
 * import-x/no-cycle ignores them too).
 */
function specifiers(file: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest);
  const found: string[] = [];
  for (const statement of source.statements) {
    if (ts.isImportDeclaration(statement) && !isTypeOnly(statement.importClause)) {
      found.push((statement.moduleSpecifier as ts.StringLiteral).text);
    } else if (ts.isExportDeclaration(statement) && statement.moduleSpecifier && !statement.isTypeOnly) {
      found.push((statement.moduleSpecifier as ts.StringLiteral).text);
    }
  }
  return found;
}

/** `import type { A }`, or `import { type A, type B }`: nothing of it is left at run time. */
function isTypeOnly(clause: ts.ImportClause | undefined): boolean {
  if (!clause) return false;
  if (clause.isTypeOnly) return true;
  const bindings = clause.namedBindings;
  return !clause.name && !!bindings && ts.isNamedImports(bindings) && bindings.elements.every((e) => e.isTypeOnly);
}

/** The .ts file a relative specifier (`./x.js`, NodeNext style) names. */
const resolveRelative = (from: string, specifier: string): string =>
  resolve(dirname(from), specifier).replace(/\.js$/, '.ts');

/** A cycle for every back edge of a depth-first walk: none exactly when the graph has no cycle. */
function cycles(graph: Map<string, string[]>): string[][] {
  const found: string[][] = [];
  const done = new Set<string>();
  const path: string[] = [];
  const visit = (file: string): void => {
    const at = path.indexOf(file);
    if (at >= 0) {
      found.push([...path.slice(at), file]);
      return;
    }
    if (done.has(file)) return;
    path.push(file);
    for (const next of graph.get(file) ?? []) visit(next);
    path.pop();
    done.add(file);
  };
  for (const file of graph.keys()) visit(file);
  return found;
}

describe('imports', () => {
  it('lib/ has no import cycles', () => {
    const files = sourcesUnder('lib');
    const graph = new Map(
      files.map((file) => [
        file,
        specifiers(file)
          .filter((s) => s.startsWith('.'))
          .map((s) => resolveRelative(file, s)),
      ]),
    );
    const named = cycles(graph).map((cycle) => cycle.map((file) => relative(root, file)).join(' -> '));
    expect(named).toEqual([]);
  });

  it('the e2e tests, test support, bench and sample-app import the package only by its public names', () => {
    const lib = join(root, 'lib');
    const files = ['test/e2e', 'test/support', 'bench', 'sample-app'].flatMap(sourcesUnder);
    const reaching = files.flatMap((file) =>
      specifiers(file)
        .filter((s) => s.startsWith('.') && resolveRelative(file, s).startsWith(lib))
        .map((s) => `${relative(root, file)}: ${s}`),
    );
    expect(reaching).toEqual([]);
  });
});
